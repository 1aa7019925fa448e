"""The tutorial's container and its one activity."""

# --8<-- [start:container]
from datetime import timedelta

from dependency_injector import providers
from dependency_injector.wiring import Provide
from returns.result import Failure, Result, Success

import fnact
from examples.tutorial.directory import STAFF, Directory
from examples.tutorial.models import UserNotFound, Welcome, WelcomeArgs, WelcomeUser


class Container(fnact.Container):
    """The app's providers, beside fnact's own (clock, settings, logger, state store)."""

    people = providers.Object(STAFF)
    handler = providers.Factory(Directory, people=people)
    greeting = providers.Object("Welcome to the {team} team, {name}!")


# --8<-- [end:container]


# --8<-- [start:activity]
Ctx = fnact.ActivityContext[Directory, WelcomeArgs]


@fnact.activity(start_to_close_timeout=timedelta(seconds=10))
async def welcome_user(
    ctx: Ctx,
    args: WelcomeUser,
    greeting: str = Provide[Container.greeting],
) -> Result[Welcome, UserNotFound]:
    """Look the user up in the directory and write their welcome message."""
    person = ctx.state.handler.find(args.user_id)
    if person is None:
        return Failure(UserNotFound(user_id=args.user_id))
    message = greeting.format(team=ctx.state.workflow_args.team, name=person.name)
    ctx.logger.info("welcomed", user_id=args.user_id)
    return Success(Welcome(user_id=args.user_id, email=person.email, message=message))


# --8<-- [end:activity]
