"""An identity provider for benches with many users: the token `bench-user-NAME` is user NAME.

Selected in the server under test with
`--ServerApp.identity_provider_class=bench.users.NamedUsers`, so StudyMate takes each user's
id from jupyter-server as it would under JupyterHub. Only for a server on 127.0.0.1 in a bench.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.identity import IdentityProvider, User

PREFIX = "bench-user-"


def token_for(name: str) -> str:
    """The token that authenticates as `name`."""
    return PREFIX + name


class NamedUsers(IdentityProvider):
    def get_user(self, handler: Any) -> User | None:
        header = handler.request.headers.get("Authorization", "")
        token = header.removeprefix("token ").strip() or handler.get_argument("token", "")
        name = token.removeprefix(PREFIX) if token.startswith(PREFIX) else ""
        if not name:
            return None
        # Token requests need no XSRF cookie, as with jupyter-server's own tokens.
        handler._token_authenticated = True
        return User(username=name, name=name, display_name=name)
