"""Who a request is, from jupyter-server's identity only (never from a payload)."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from typing import Any

from jupyter_server.auth.identity import IdentityProvider, PasswordIdentityProvider
from tornado import web

# Course documents (and their chunks) are owned by this id in place of a user's. A user
# cannot be it: Identity refuses a user name that is.
COURSE_OWNER = "/course"

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
    # c.StudyMate.instructors and instructor_groups: who may change the course library.
    instructors: frozenset[str] = field(default_factory=frozenset)
    instructor_groups: frozenset[str] = field(default_factory=frozenset)

    def user_id(self, user: Any) -> str:
        if self.single_owner:
            return self.owner_id
        name = str(user.username)
        if name == COURSE_OWNER:
            # The course library's owner id: a user of that name would own the course.
            raise web.HTTPError(403, reason="reserved user name")
        return name

    def is_instructor(self, user: Any) -> bool:
        """Named in `instructors`, or (on JupyterHub) in one of `instructor_groups`, read from
        the hub's user model, which the single-user server's OAuth token may read."""
        if self.user_id(user) in self.instructors:
            return True
        hub_user = getattr(user, "hub_user", None) or {}
        return not self.instructor_groups.isdisjoint(hub_user.get("groups") or ())

    def display_name(self, user: Any) -> str:
        if self.single_owner:
            return self.owner_id
        return str(getattr(user, "display_name", "") or user.username)
