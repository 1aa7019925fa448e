"""An activity that runs without a workflow: its state comes from its own input.

The workflow sandbox never imports this module; it holds no test code.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import msgspec
from dependency_injector import providers
from returns.result import Failure, Result, Success
from temporalio.common import RetryPolicy

import fnact


class Member(msgspec.Struct, frozen=True):
    name: str
    team: str


class Greeting(msgspec.Struct, frozen=True):
    text: str
    output: fnact.OutputRef


class NotMember(fnact.Fault):
    name: str


class Directory:
    """The run's handler, built from the activity's own input."""

    built = itertools.count(1)

    def __init__(self, workflow_args: Member) -> None:
        self.team = workflow_args.team
        self.number = next(Directory.built)
        self.closed = False

    def close(self) -> None:
        self.closed = True


class Container(fnact.Container):
    handler = providers.Factory(Directory)


@fnact.activity(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_attempts=2),
)
async def greet_member(
    ctx: fnact.ActivityContext[Directory, Member], member: Member
) -> Result[Greeting, NotMember]:
    if not member.name:
        return Failure(NotMember(name=member.name))
    text = f"Welcome to {ctx.state.handler.team}, {ctx.state.workflow_args.name}!"
    ref = await ctx.outputs.write("greeting.txt", text)
    return Success(Greeting(text, ref))
