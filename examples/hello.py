"""The README's Quick start: one activity, one workflow, on an embedded dev server.

Run it with ``python -m examples.hello``, or save it as ``hello.py`` and run that.
"""

# --8<-- [start:hello]
import asyncio
from datetime import timedelta

import msgspec
from returns.result import Failure, Result, Success
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import fnact
    import fnact.worker
    import fnact.workflow


class Greet(msgspec.Struct, frozen=True):
    name: str


class NoName(fnact.Fault):
    """An expected error: the workflow gets it back typed, not as an exception."""

    position: int


@fnact.activity(start_to_close_timeout=timedelta(seconds=10))
async def greet(ctx: fnact.ActivityContext, args: Greet) -> Result[str, NoName]:
    if not args.name.strip():
        return Failure(NoName(position=int(ctx.info.activity_id)))
    return Success(f"Hello, {args.name}!")


@workflow.defn
class Hello:
    @workflow.run
    async def run(self, names: list[str]) -> list[str]:
        lines: list[str] = []
        for name in names:
            result = await fnact.workflow.execute_activity(greet, Greet(name))
            if isinstance(result, Failure):  # an expected error, typed: a NoName
                lines.append(f"activity {result.failure().position}: no name given")
            else:
                lines.append(result.unwrap())
        return lines


async def main() -> None:
    with fnact.worker.DevServer() as server:  # a local Temporal server, from fnact[server]
        client = await fnact.worker.connect(server.address)
        worker = fnact.worker.create_worker(
            client,
            task_queue="hello",
            container=fnact.Container(),
            activities=[greet],
            workflows=[Hello],
        )
        async with worker:
            lines = await client.execute_workflow(
                Hello.run, ["Ada", " ", "Grace"], id="hello", task_queue="hello"
            )
    print("\n".join(lines))


if __name__ == "__main__":
    asyncio.run(main())
# --8<-- [end:hello]
