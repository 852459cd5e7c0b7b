"""Who a request is, from jupyter-server's identity only (never from a payload)."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import Any

from jupyter_server.auth.identity import IdentityProvider, PasswordIdentityProvider

# Providers with one shared secret: every authenticated request is the server's one owner.
SHARED_SECRET_PROVIDERS: tuple[type[Any], ...] = (IdentityProvider, PasswordIdentityProvider)


def default_owner_id() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        return "owner"


def names_users(identity_provider: Any) -> bool:
    """True when the provider tells users apart (JupyterHub, a custom provider)."""
    return type(identity_provider) not in SHARED_SECRET_PROVIDERS


@dataclass(frozen=True)
class Identity:
    """Maps jupyter-server's authenticated user to a StudyMate user_id."""

    owner_id: str
    single_owner: bool

    def user_id(self, user: Any) -> str:
        if self.single_owner:
            return self.owner_id
        return str(user.username)

    def display_name(self, user: Any) -> str:
        if self.single_owner:
            return self.owner_id
        return str(getattr(user, "display_name", "") or user.username)
