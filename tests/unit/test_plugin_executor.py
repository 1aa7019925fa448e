"""The activity executor `fnact.worker.Plugin` gives a worker with sync fnact activities."""

from __future__ import annotations

import concurrent.futures
from typing import Any

import pytest
import temporalio.worker

import fnact.worker
from fnact.exceptions import WorkerConfigurationError
from tests.apps.sync_app import ACTIVITIES, SyncContainer, limited_async, limited_sync


def configure(**config: Any) -> temporalio.worker.WorkerConfig:
    """Return the worker configuration the plugin makes of ``config``."""
    plugin = fnact.worker.Plugin(SyncContainer())
    return plugin.configure_worker(temporalio.worker.WorkerConfig(task_queue="q", **config))


@pytest.mark.parametrize(
    ("options", "threads"),
    [({"max_concurrent_activities": 7}, 7), ({}, 100)],
    ids=["max_concurrent_activities", "temporal-default"],
)
def test_sync_activities_get_a_thread_pool_of_the_workers_size(
    options: dict[str, Any], threads: int
) -> None:
    """No activity_executor: fnact's ThreadPoolExecutor has max_concurrent_activities threads."""
    executor = configure(activities=ACTIVITIES, **options)["activity_executor"]
    assert isinstance(executor, concurrent.futures.ThreadPoolExecutor)
    assert executor._max_workers == threads
    executor.shutdown()


def test_async_activities_alone_get_no_executor() -> None:
    """A worker whose fnact activities are all async is given no activity_executor."""
    assert configure(activities=[limited_async]).get("activity_executor") is None


def test_the_apps_thread_pool_is_kept() -> None:
    """An activity_executor the app gives, a ThreadPoolExecutor, is the one used."""
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        assert (
            configure(activities=[limited_sync], activity_executor=pool)["activity_executor"]
            is pool
        )


def test_a_process_pool_is_refused_naming_the_sync_activity() -> None:
    """A ProcessPoolExecutor cannot run fnact's sync activities: the error names the activity."""
    with (
        concurrent.futures.ProcessPoolExecutor(1) as pool,
        pytest.raises(
            WorkerConfigurationError,
            match=r"sync activity tests\.apps\.sync_app\.limited_sync runs in the worker's "
            r"activity_executor, a ProcessPoolExecutor: it must be a "
            r"concurrent\.futures\.ThreadPoolExecutor",
        ),
    ):
        configure(activities=[limited_async, limited_sync], activity_executor=pool)
