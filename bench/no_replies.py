"""A server extension for benchmarks: the reply queue accepts nothing, so a user message is
stored and acknowledged as usual and nothing answers it. Loaded beside StudyMate with
`--ServerApp.jpserver_extensions={'studymate_jupyter': True, 'bench.no_replies': True}` to
separate a message's own cost from its reply's; never loaded outside bench/.
"""

from __future__ import annotations

from typing import Any

LOAD_ARG = "--ServerApp.jpserver_extensions={'studymate_jupyter': True, 'bench.no_replies': True}"


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "bench.no_replies"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from studymate_jupyter.chat.replies import Replies

    Replies.enqueue = lambda self, user_id, question: None  # type: ignore[method-assign]
