"""Figure 9: what permessage-deflate saves on the wire, and what it costs in time.

Each repetition measures a connection that offers compression beside one that does not, in
the same server, back to back: the bytes read off the socket for a page of 500 messages and
for a streamed reply (full and delta mode, four connections following the one chat), and the
round trips of loading that page and of a durable message echo. The 500 messages are varied
text: questions of the evaluation set and sentences from the project's documentation, each
reply three to five of them from a random place (seeded), without citations.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

from . import history, loadgen
from .fake_llm import piece
from .loadgen import Setup, Target
from .report import Row
from .roundtrip import SERVER_ARGS
from .servers import REPO, FakeLLM, StudyMateServer
from .sizes import Sizes
from .stats import percentile

SECTION = "9."
PAGE = 500  # the most load_messages returns at once
PLAIN, DEFLATE = "uncompressed", "compressed"
TEXTS = ("docs/protocol.md", "docs/assistants.md", "notebooks/sample-notes.md")


class CourseText:
    """Message contents that read like a study chat's, the same in every run."""

    def __init__(self, seed: int = 9) -> None:
        questions = json.loads((REPO / "bench" / "eval" / "questions.json").read_text())
        self.questions = [str(q["question"]) for q in questions["questions"]]
        prose = " ".join(" ".join((REPO / path).read_text().split()) for path in TEXTS)
        self.sentences = [s for s in re.split(r"(?<=[.!?])\s+", prose) if len(s) > 20]
        self.random = random.Random(seed)

    def __call__(self, n: int, role: str) -> str:
        if role == "user":
            return self.questions[n // 2 % len(self.questions)]
        start = self.random.randrange(len(self.sentences) - 5)
        return " ".join(self.sentences[start : start + self.random.randint(3, 5)])


def side_by_side(server: StudyMateServer, chat: str) -> tuple[Target, Setup, Setup]:
    target = Target(server.ws_plain_url, server.headers)
    return target, Setup((chat,), compressed=(False,)), Setup((chat,), compressed=(True,))


def history_and_echo(workdir: Path, sizes: Sizes) -> list[Row]:
    server = StudyMateServer(workdir / "compression-server", SERVER_ARGS)
    server.workdir.mkdir(parents=True, exist_ok=True)
    history.build(server.db_path, PAGE, PAGE, CourseText())
    kib: dict[str, list[float]] = {PLAIN: [], DEFLATE: []}
    load: dict[str, list[float]] = {PLAIN: [], DEFLATE: []}
    echo: dict[str, list[float]] = {PLAIN: [], DEFLATE: []}
    with server:
        target, plain, deflate = side_by_side(server, history.CHAT)
        echo_chat = server.new_chat()
        with loadgen.pool(target, [plain]) as p, loadgen.pool(target, [deflate]) as d:
            pools = {PLAIN: p, DEFLATE: d}
            for each in pools.values():  # untimed: caches and the reader threads warm up
                each.run("history", samples=5, limit=PAGE)
            for _ in range(sizes.reps):
                for name, each in pools.items():
                    (page_bytes,) = each.run("history_bytes", limit=PAGE)
                    kib[name].append(page_bytes / 1024)
                    (times,) = each.run("history", samples=sizes.history_samples, limit=PAGE)
                    load[name].append(percentile(times, 50) * 1000)
        _, plain, deflate = side_by_side(server, echo_chat)
        with loadgen.pool(target, [plain]) as p, loadgen.pool(target, [deflate]) as d:
            pools = {PLAIN: p, DEFLATE: d}
            kwargs: dict[str, Any] = {
                "op": "message",
                "samples": sizes.message_samples,
                "interval": sizes.message_interval,
                "size": sizes.message_bytes,
            }
            for each in pools.values():
                each.run("latency", **{**kwargs, "samples": min(sizes.message_samples, 20)})
            for _ in range(sizes.reps):
                for name, each in pools.items():
                    (times,) = each.run("latency", **kwargs)
                    echo[name].append(percentile(times, 50) * 1000)
    what = f"history: a page of {PAGE} messages"
    return [
        Row.paired(
            SECTION, f"{what}, wire bytes {DEFLATE}", "KiB", kib[DEFLATE], kib[PLAIN], PLAIN
        ),
        Row.paired(
            SECTION,
            f"{what}, end to end p50 {DEFLATE}",
            "ms",
            load[DEFLATE],
            load[PLAIN],
            PLAIN,
            extra={"samples_per_rep": sizes.history_samples},
        ),
        Row.paired(
            SECTION,
            f"durable message echo p50, 1 client, {DEFLATE}",
            "ms",
            echo[DEFLATE],
            echo[PLAIN],
            PLAIN,
            extra={"samples_per_rep": sizes.message_samples, "bytes": sizes.message_bytes},
        ),
    ]


def streamed_reply(workdir: Path, sizes: Sizes) -> list[Row]:
    per_byte: dict[tuple[str, bool], list[float]] = {}
    with (
        FakeLLM(sizes.stream_pieces, sizes.stream_delay) as llm,
        StudyMateServer(workdir / "compression-stream-server", llm.args_for_server) as server,
    ):
        chat = server.new_chat()
        modes = ("full", "full", "delta", "delta")
        compressed = (False, True, False, True)
        setup = Setup((chat,) * 4, modes, compressed)
        with loadgen.pool(Target(server.ws_plain_url, server.headers), [setup]) as p:
            for _ in range(sizes.stream_reps):
                (runs,) = p.run("stream")
                finals = {(r["final"]["content"], r["final"]["status"]) for r in runs}
                if len(finals) != 1 or not next(iter(finals))[0].endswith(
                    piece(sizes.stream_pieces - 1)
                ):
                    raise RuntimeError("the connections saw different replies")
                size = len(runs[0]["final"]["content"].encode())
                for mode, deflate, run in zip(modes, compressed, runs, strict=True):
                    per_byte.setdefault((mode, deflate), []).append(run["socket_bytes"] / size)
    what = f"stream of {sizes.stream_pieces} pieces: wire bytes per content byte"
    return [
        Row.paired(
            SECTION,
            f"{what}, {mode} mode, {DEFLATE}",
            "B/B",
            per_byte[(mode, True)],
            per_byte[(mode, False)],
            PLAIN,
        )
        for mode in ("delta", "full")
    ]


def run(workdir: Path, sizes: Sizes) -> list[Row]:
    return history_and_echo(workdir, sizes) + streamed_reply(workdir, sizes)
