"""An identity provider that names two users by their tokens, as JupyterHub would."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.identity import IdentityProvider, User

TOKENS = {"alice-token": "alice", "bob-token": "bob"}


class TwoUsers(IdentityProvider):  # type: ignore[misc]
    def get_user(self, handler: Any) -> User | None:
        header = handler.request.headers.get("Authorization", "")
        token = header.removeprefix("token ").strip() or handler.get_argument("token", "")
        name = TOKENS.get(token)
        if name is not None:
            # Token requests need no XSRF cookie, as with jupyter-server's own tokens.
            handler._token_authenticated = True
        return None if name is None else User(username=name, name=name, display_name=name.title())


def server_config(db_url: str) -> dict[str, Any]:
    """A `jp_server_config` with StudyMate (on the test's database) behind this provider."""
    return {
        "ServerApp": {
            "jpserver_extensions": {"studymate_jupyter": True},
            "identity_provider_class": TwoUsers,
        },
        "StudyMate": {"db_url": db_url},
    }
