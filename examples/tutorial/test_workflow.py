"""The tutorial's workflow test: a real Temporal dev server, a real worker."""

# --8<-- [start:workflow_test]
import uuid

import pytest
from temporalio.client import Client

from examples.tutorial.activities import welcome_user
from examples.tutorial.models import WelcomeArgs
from examples.tutorial.workflows import WelcomeTeam
from fnact.testing import StartWorker

pytestmark = pytest.mark.integration


async def test_welcomes_known_users_and_lists_the_others(
    fnact_worker: StartWorker, temporal_client: Client
) -> None:
    """WelcomeTeam welcomes the directory's users and reports the one it lacks."""
    queue = await fnact_worker(activities=[welcome_user], workflows=[WelcomeTeam])
    report = await temporal_client.execute_workflow(
        WelcomeTeam.run,
        WelcomeArgs(team="data", user_ids=["grace", "zed"]),
        id=f"welcome-{uuid.uuid4()}",
        task_queue=queue,
    )
    assert [w.message for w in report.welcomed] == ["Welcome to the data team, Grace Hopper!"]
    assert report.unknown == ["zed"]


# --8<-- [end:workflow_test]
