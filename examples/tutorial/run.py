"""Run the tutorial's workflow once on an embedded Temporal dev server.

From the repository's root: ``python -m examples.tutorial.run``.
"""

# --8<-- [start:run]
import asyncio
import logging
import sys
import uuid

import fnact
import fnact.worker
from examples.tutorial.activities import Container, welcome_user
from examples.tutorial.models import WelcomeArgs, WelcomeReport
from examples.tutorial.workflows import WelcomeTeam

TASK_QUEUE = "tutorial"


async def welcome_team(address: str, workflow_id: str) -> WelcomeReport:
    """Start a worker, run the workflow on it, and return the workflow's result."""
    client = await fnact.worker.connect(address)
    worker = fnact.worker.create_worker(
        client,
        task_queue=TASK_QUEUE,
        container=Container(),
        activities=[welcome_user],
        workflows=[WelcomeTeam],
    )
    async with worker:
        return await client.execute_workflow(
            WelcomeTeam.run,
            WelcomeArgs(team="platform", user_ids=["ada", "grace", "zed"]),
            id=workflow_id,
            task_queue=TASK_QUEUE,
        )


def main() -> None:
    """Start the dev server, run the workflow, print its result and where to see it."""
    # The activities' log lines on stderr, each followed by its fields.
    handler = logging.StreamHandler()
    handler.setFormatter(fnact.worker.TextFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    workflow_id = f"welcome-{uuid.uuid4().hex[:8]}"
    with fnact.worker.DevServer() as server:
        report = asyncio.run(welcome_team(server.address, workflow_id))
        for welcome in report.welcomed:
            print(f"{welcome.email}: {welcome.message}")
        print(f"not in the directory: {', '.join(report.unknown)}")
        print(f"Web UI: {server.ui_url}/namespaces/default/workflows/{workflow_id}")
        if sys.stdin.isatty():
            input("Press Enter to stop the dev server. ")


if __name__ == "__main__":
    main()
# --8<-- [end:run]
