"""The values that cross the Temporal boundary: inputs, outputs and the expected error."""

# --8<-- [start:models]
import msgspec

import fnact


class WelcomeArgs(msgspec.Struct, frozen=True):
    """The workflow's input: the team and the users who just joined it."""

    team: str
    user_ids: list[str]


class WelcomeUser(msgspec.Struct, frozen=True):
    """The activity's input: whom to welcome."""

    user_id: str


class Welcome(msgspec.Struct, frozen=True):
    """The activity's output: the message for one user."""

    user_id: str
    email: str
    message: str


class WelcomeReport(msgspec.Struct, frozen=True):
    """The workflow's result."""

    team: str
    welcomed: list[Welcome]
    unknown: list[str]


class UserNotFound(fnact.Fault):
    """The directory has no such user; retrying will not change that."""

    user_id: str


# --8<-- [end:models]
