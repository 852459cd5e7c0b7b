"""The types only a client has; the protocol's own (messages, chats, citations, …) are
declared once, in ``studymate_jupyter.protocol``."""

from __future__ import annotations

from typing import Literal

ConnectionState = Literal["connecting", "connected", "reconnecting", "offline"]

#: A reply in one of these states will not grow any more.
FINAL_STATUSES: frozenset[str] = frozenset({"complete", "stopped", "error"})
