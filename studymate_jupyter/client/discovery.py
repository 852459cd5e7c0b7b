"""Finding the server: explicit arguments, then environment variables, then the runtime
files of the running Jupyter servers (the one the kernel or the working directory belongs
to)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

URL_ENV = "STUDYMATE_URL"
TOKEN_ENVS = ("STUDYMATE_TOKEN", "JUPYTER_TOKEN")


class ServerNotFound(LookupError):
    """No URL was given and no running Jupyter server could be found."""


@dataclass(frozen=True)
class ServerInfo:
    """Where the server is: ``base_url`` is its HTTP(S) base URL ending in ``/``."""

    base_url: str
    token: str

    @property
    def ws_url(self) -> str:
        """``{base_url}ws/chat`` with the ws/wss scheme."""
        scheme, rest = self.base_url.split("://", 1)
        return f"{'wss' if scheme == 'https' else 'ws'}://{rest}ws/chat"

    def api_url(self, path: str) -> str:
        """``{base_url}studymate/api/{path}``."""
        return f"{self.base_url}studymate/api/{path.lstrip('/')}"


def normalize_url(url: str) -> tuple[str, str | None]:
    """Turn any URL a user may paste (Lab's address with ``?token=``, the WebSocket URL,
    a bare ``host:port``) into an HTTP base URL ending in ``/``, plus the token it carries."""
    if "://" not in url:
        url = f"http://{url}"
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    if scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) or ws(s) URL: {url}")
    token = parse_qs(parts.query).get("token", [None])[0]
    path = parts.path
    # A pasted WebSocket, API or Lab URL: keep only the server's base_url.
    path = re.sub(r"(ws/chat|studymate/api/.*|lab(/.*)?|tree(/.*)?)$", "", path)
    if not path.endswith("/"):
        path += "/"
    return urlunsplit((scheme, parts.netloc, path, "", "")), token


def pick_server(
    servers: Iterable[Mapping[str, Any]], cwd: str | os.PathLike[str]
) -> Mapping[str, Any] | None:
    """The running server whose ``root_dir`` holds ``cwd``, the deepest such root winning;
    ``None`` when no root holds it."""
    here = Path(cwd).resolve()
    best: tuple[int, Mapping[str, Any]] | None = None
    for info in servers:
        root = info.get("root_dir") or info.get("notebook_dir")
        if not root:
            continue
        root_path = Path(root).expanduser().resolve()
        if here == root_path or root_path in here.parents:
            depth = len(root_path.parts)
            if best is None or depth > best[0]:
                best = (depth, info)
    return best[1] if best else None


def _info_to_server(info: Mapping[str, Any]) -> ServerInfo:
    base_url, _ = normalize_url(str(info["url"]))
    return ServerInfo(base_url=base_url, token=str(info.get("token") or ""))


def kernel_id() -> str | None:
    """The id of the kernel this code runs in, from its connection file; ``None`` outside
    a kernel."""
    try:
        from ipykernel.connect import get_connection_file  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    try:
        name = os.path.basename(str(get_connection_file()))
    except Exception:  # not in a kernel: ipykernel raises various errors
        return None
    match = re.match(r"kernel-(.+)\.json$", name)
    return match.group(1) if match else None


async def _server_runs_kernel(server: ServerInfo, kid: str) -> bool:
    from tornado.httpclient import AsyncHTTPClient, HTTPRequest

    headers = {"Authorization": f"token {server.token}"} if server.token else {}
    request = HTTPRequest(
        f"{server.base_url}api/kernels/{kid}",
        headers=headers,
        connect_timeout=2,
        request_timeout=3,
    )
    try:
        response = await AsyncHTTPClient().fetch(request, raise_error=False)
    except OSError:
        return False
    return response.code == 200


async def discover_running(
    servers: Iterable[Mapping[str, Any]] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    kid: str | None = None,
) -> ServerInfo:
    """The running Jupyter server this process belongs to: the one running this kernel if
    we are in one, else the one whose root_dir holds ``cwd``, else the only one running."""
    if servers is None:
        from jupyter_server.serverapp import list_running_servers

        servers = list(list_running_servers())
    candidates = list(servers)
    if not candidates:
        raise ServerNotFound(
            "no running Jupyter server found; pass --url and --token "
            f"(or set {URL_ENV} and {TOKEN_ENVS[0]})"
        )
    kid = kid if kid is not None else kernel_id()
    if kid:
        for info in candidates:
            server = _info_to_server(info)
            if await _server_runs_kernel(server, kid):
                return server
    chosen = pick_server(candidates, cwd if cwd is not None else os.getcwd())
    if chosen is None and len(candidates) == 1:
        chosen = candidates[0]
    if chosen is None:
        raise ServerNotFound(
            f"{len(candidates)} Jupyter servers are running and none serves this directory; "
            "pass --url and --token"
        )
    return _info_to_server(chosen)


def from_arguments(
    url: str | None, token: str | None, environ: Mapping[str, str] | None = None
) -> ServerInfo | None:
    """The server named by arguments, else by environment variables; ``None`` when neither
    names a URL (then discover it). An explicit token wins over one in the URL or the
    environment."""
    env = os.environ if environ is None else environ
    env_token = next((env[name] for name in TOKEN_ENVS if env.get(name)), None)
    if url is None:
        url = env.get(URL_ENV) or None
    if url is None:
        return None
    base_url, url_token = normalize_url(url)
    chosen = token if token is not None else (url_token or env_token or "")
    return ServerInfo(base_url=base_url, token=chosen)


async def resolve_server(
    url: str | None = None,
    token: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> ServerInfo:
    """Arguments, then ``STUDYMATE_URL``/``STUDYMATE_TOKEN``/``JUPYTER_TOKEN``, then discovery."""
    named = from_arguments(url, token, environ)
    if named is not None:
        return named
    found = await discover_running()
    env = os.environ if environ is None else environ
    chosen = (
        token
        if token is not None
        else next((env[name] for name in TOKEN_ENVS if env.get(name)), found.token)
    )
    return ServerInfo(base_url=found.base_url, token=chosen)
