"""Credentials that travel as `fnact.Secret`: an activity that logs in to a partner's API.

The workflow sandbox imports this module (through `examples.howto.workflows`), so it
imports nothing heavy; the payload codec lives in `examples.howto.secrets_codec`.
The how-to guide "Handle secrets" shows these pieces.
"""

# --8<-- [start:imports]
from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import timedelta

import msgspec
from dependency_injector import providers
from dependency_injector.wiring import Provide
from returns.result import Failure, Result, Success

import fnact

# --8<-- [end:imports]


# --8<-- [start:api]
class PartnerApi:
    """A stand-in for a partner's HTTP API: it knows some users and their invoices."""

    def __init__(self, passwords: Mapping[str, str], invoices: Mapping[str, int]) -> None:
        self._passwords = dict(passwords)
        self._invoices = dict(invoices)

    async def log_in(self, user: str, password: str) -> str | None:
        """Return a session token, or ``None`` when the password is wrong."""
        known = self._passwords.get(user)
        if known is None or not secrets.compare_digest(known, password):
            return None
        return f"session-{user}"

    async def count_invoices(self, session: str, account: str) -> int:
        """Return how many invoices ``account`` has."""
        return self._invoices.get(account, 0)


class Container(fnact.Container):
    """The secrets example's container: the partner's API, with no users by default."""

    partner_api = providers.Singleton(PartnerApi, passwords={}, invoices={})


# --8<-- [end:api]


# --8<-- [start:models]
class Login(msgspec.Struct, frozen=True):
    """Credentials for the partner's API."""

    user: str
    password: fnact.Secret  # travels as a plain JSON string; masked everywhere it is shown


class SyncArgs(msgspec.Struct, frozen=True):
    """Workflow input: whose invoices to count, and how to log in."""

    account: str
    login: Login


class LoginRejected(fnact.Fault):
    """The partner's API refused the credentials."""

    login: Login  # recorded masked in the failure's details


# --8<-- [end:models]


# --8<-- [start:activity]
@fnact.activity(start_to_close_timeout=timedelta(seconds=30))
async def count_invoices(
    ctx: fnact.ActivityContext,
    args: SyncArgs,
    api: PartnerApi = Provide[Container.partner_api],
) -> Result[int, LoginRejected]:
    """Log in to the partner's API and count the account's invoices."""
    ctx.logger.info("logging in", login=args.login)  # the record shows password=********
    session = await api.log_in(args.login.user, args.login.password.reveal())
    if session is None:
        return Failure(LoginRejected(login=args.login))
    return Success(await api.count_invoices(session, args.account))


# --8<-- [end:activity]
