"""Figure 5: bytes on the wire per byte of a long reply's final content, full vs delta mode.

One connection in each mode follows the same chat; the fake model streams many small pieces.
The naive figure (a whole `message` frame per piece) is computed from the same reply.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from studymate_jupyter.assistant.prompt import WITHOUT_MATERIAL
from studymate_jupyter.protocol import Message, message_frame

from . import loadgen
from .fake_llm import piece
from .loadgen import Setup, Target, wire_bytes
from .report import Row
from .servers import FakeLLM, StudyMateServer
from .sizes import Sizes

SECTION = "5."


def naive_wire_bytes(final: dict[str, Any], user_id: str, pieces: list[str]) -> int:
    """Bytes of one whole-message frame per piece, as a server without coalescing would send."""
    total = 0
    content = ""
    for text in pieces:
        content += text
        message = cast(Message, {**final, "content": content, "status": "streaming"})
        frame = message_frame(message, user_id, final["chat_id"])
        total += wire_bytes(len(frame.encode()))
    final_frame = message_frame(cast(Message, final), user_id, final["chat_id"])
    return total + wire_bytes(len(final_frame.encode()))


def run(workdir: Path, sizes: Sizes) -> list[Row]:
    # The bench's library is empty: the reply starts by saying so.
    pieces = [WITHOUT_MATERIAL, *(piece(n) for n in range(sizes.stream_pieces))]
    full: list[float] = []
    delta: list[float] = []
    naive: list[float] = []
    frames: dict[str, list[int]] = {"full": [], "delta": []}
    with (
        FakeLLM(sizes.stream_pieces, sizes.stream_delay) as llm,
        StudyMateServer(workdir / "stream-server", llm.args_for_server) as server,
    ):
        chat = server.new_chat()
        setup = Setup((chat, chat), ("full", "delta"))
        with loadgen.pool(Target(server.ws_plain_url, server.headers), [setup]) as p:
            for _ in range(sizes.stream_reps):
                ((full_run, delta_run),) = p.run("stream")
                final = full_run["final"]
                delta_final = delta_run["final"]
                if final["content"] != "".join(pieces) or (
                    delta_final["content"],
                    delta_final["status"],
                ) != (final["content"], final["status"]):
                    raise RuntimeError("the streamed reply is not the model's text")
                size = len(final["content"].encode())
                full.append(full_run["wire_bytes"] / size)
                delta.append(delta_run["wire_bytes"] / size)
                naive.append(naive_wire_bytes(final, "bench", pieces) / size)
                frames["full"].append(full_run["frames"])
                frames["delta"].append(delta_run["frames"])
    what = f"stream of {sizes.stream_pieces} pieces {sizes.stream_delay * 1000:g} ms apart"
    extra = {"frames": frames, "content_bytes": len("".join(pieces).encode())}
    return [
        Row.paired(
            SECTION,
            f"{what}: wire bytes per content byte, delta mode",
            "B/B",
            delta,
            naive,
            "naive: whole message per piece",
            target=("value", "<=", 3.0),
            extra=extra,
        ),
        Row.paired(
            SECTION,
            f"{what}: wire bytes per content byte, full mode (seed-compatible)",
            "B/B",
            full,
            naive,
            "naive: whole message per piece",
            extra=extra,
        ),
    ]
