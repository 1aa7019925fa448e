"""The tutorial's workflow: welcome each user, and list those the directory lacks."""

# --8<-- [start:workflow]
from returns.result import Failure, Success
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import fnact.workflow
    from examples.tutorial.activities import welcome_user
    from examples.tutorial.models import (
        UserNotFound,
        Welcome,
        WelcomeArgs,
        WelcomeReport,
        WelcomeUser,
    )


@workflow.defn
class WelcomeTeam:
    """Welcome every new member of a team."""

    @workflow.run
    async def run(self, args: WelcomeArgs) -> WelcomeReport:
        """Call welcome_user once per user; an unknown user is reported, not fatal."""
        welcomed: list[Welcome] = []
        unknown: list[str] = []
        for user_id in args.user_ids:
            match await fnact.workflow.execute_activity(welcome_user, WelcomeUser(user_id)):
                case Success(Welcome() as welcome):
                    welcomed.append(welcome)
                case Failure(UserNotFound(user_id=missing)):
                    unknown.append(missing)
                case other:  # to a type checker, Result is not closed to these two classes
                    raise AssertionError(f"not an outcome of welcome_user: {other!r}")
        return WelcomeReport(team=args.team, welcomed=welcomed, unknown=unknown)


# --8<-- [end:workflow]
