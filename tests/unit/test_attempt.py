"""What one activity attempt knows of its run: the ids of the workflow run that scheduled it."""

from __future__ import annotations

import pytest
from temporalio import activity
from temporalio.testing import ActivityEnvironment

import fnact
import fnact.testing
from fnact.exceptions import NotInActivityError


def test_workflow_ids_outside_an_activity_say_so() -> None:
    """get_workflow_id() and get_workflow_run_id() outside an activity raise a typed error."""
    with pytest.raises(NotInActivityError, match="get_workflow_id"):
        fnact.get_workflow_id()
    with pytest.raises(NotInActivityError, match="get_workflow_run_id"):
        fnact.get_workflow_run_id()


async def test_workflow_ids_inside_a_plain_activity() -> None:
    """get_workflow_id() and get_workflow_run_id() return the running activity's run."""

    @activity.defn
    async def ids() -> tuple[str, str]:
        return fnact.get_workflow_id(), fnact.get_workflow_run_id()

    env = ActivityEnvironment()
    env.info = fnact.testing.activity_info(workflow_id="orders-7", workflow_run_id="run-3")
    assert await env.run(ids) == ("orders-7", "run-3")
