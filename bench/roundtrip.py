"""Figures 1 and 2: round trips, broadcast throughput and memory per idle connection.

StudyMate (rate limit off, an assistant that answers at once) and the bare echo run side by
side; every repetition measures the bare echo and then StudyMate, back to back, with the same
client code, frame size and pacing.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from . import loadgen
from .loadgen import Pool, Setup, Target
from .report import Row
from .servers import BareEcho, StudyMateServer, cpu_seconds, rss_bytes
from .sizes import Sizes
from .stats import Spread, percentile

SECTION_RT = "1."
SECTION_MEM = "2."
# The server under test for figures 1, 2 and 4.
SERVER_ARGS = [
    "--StudyMate.rate_limit=0",
    "--StudyMate.assistant=bench.assistant:InstantAssistant",
]


def targets(sm: StudyMateServer, bare: BareEcho) -> tuple[Target, Target]:
    return Target(sm.ws_plain_url, sm.headers, True), Target(bare.ws_plain_url, {}, False)


def latency_rows(sm: StudyMateServer, bare: BareEcho, sizes: Sizes) -> list[Row]:
    """p50 and p99 of one client's round trips: typing broadcast, durable message echo."""
    sm_target, bare_target = targets(sm, bare)
    rows: list[Row] = []
    typing_chat, message_chat = sm.new_chat(), sm.new_chat()
    idle = f" after {sizes.idle_gap * 1000:g} ms idle"
    typing, message = Setup((typing_chat, typing_chat)), Setup((message_chat,))
    # (op, label, setup, content bytes, bound on the p50 ratio, idle gap)
    ops = [
        ("typing", "typing broadcast", typing, 0, 1.5, 0.0),
        ("message", "durable message echo", message, sizes.message_bytes, 3.0, 0.0),
        ("typing", "typing broadcast" + idle, typing, 0, 1.2, sizes.idle_gap),
        (
            "message",
            "durable message echo" + idle,
            message,
            sizes.message_bytes,
            2.0,
            sizes.idle_gap,
        ),
    ]
    for op, label, setup, size, bound, gap in ops:
        samples = sizes.typing_samples if op == "typing" else sizes.message_samples
        if gap:
            samples = max(samples // 4, 3)
        interval = sizes.typing_interval if op == "typing" else sizes.message_interval
        ours: dict[int, list[float]] = {50: [], 99: []}
        base: dict[int, list[float]] = {50: [], 99: []}
        with (
            loadgen.pool(sm_target, [setup]) as ours_pool,
            loadgen.pool(bare_target, [Setup((None,))]) as bare_pool,
        ):
            kwargs: dict[str, Any] = {
                "op": op,
                "samples": samples,
                "interval": interval,
                "size": size,
                "gap": gap,
            }
            # One untimed pass each: connections, caches and the JIT-less interpreter warm up.
            bare_pool.run("latency", **{**kwargs, "samples": min(samples, 20)})
            ours_pool.run("latency", **{**kwargs, "samples": min(samples, 20)})
            for _ in range(sizes.reps):
                (b,) = bare_pool.run("latency", **kwargs)
                (o,) = ours_pool.run("latency", **kwargs)
                for q in (50, 99):
                    base[q].append(percentile(b, q) * 1000)
                    ours[q].append(percentile(o, q) * 1000)
        for q in (50, 99):
            rows.append(
                Row.paired(
                    SECTION_RT,
                    f"{label} p{q}, 1 client",
                    "ms",
                    ours[q],
                    base[q],
                    "bare echo",
                    target=("ratio", "<=", bound) if q == 50 else None,
                    extra={"samples_per_rep": samples, "interval_s": interval, "gap_s": gap},
                )
            )
    return rows


def many_connection_rows(sm: StudyMateServer, bare: BareEcho, sizes: Sizes) -> list[Row]:
    """Broadcast throughput at each connection count; memory per idle connection at the first."""
    sm_target, bare_target = targets(sm, bare)
    rows: list[Row] = []
    for index, count in enumerate(sizes.conn_counts):
        count += count % 2  # pairs
        chats = [sm.new_chat(f"pair {n}") for n in range(count // 2)]
        ours_setups = [
            Setup(c)
            for c in loadgen.split([c for c in chats for _ in (0, 1)], sizes.processes, True)
        ]
        bare_setups = [Setup(c) for c in loadgen.split([None] * count, sizes.processes, False)]
        rss_before = rss_bytes(sm.pid), rss_bytes(bare.pid)
        ours_pool = Pool(sm_target, ours_setups)
        bare_pool = Pool(bare_target, bare_setups)
        try:
            opened = ours_pool.ready(), bare_pool.ready()
            time.sleep(1.0)  # let the servers settle before reading their memory
            if index == 0:
                rows.append(memory_row(count, rss_before, (rss_bytes(sm.pid), rss_bytes(bare.pid))))
            ours_rate: list[float] = []
            bare_rate: list[float] = []
            ours_cpu: list[float] = []
            bare_cpu: list[float] = []
            for _ in range(sizes.reps):
                for pool_, pid, rates, cpu in (
                    (bare_pool, bare.pid, bare_rate, bare_cpu),
                    (ours_pool, sm.pid, ours_rate, ours_cpu),
                ):
                    start = time.monotonic() + 0.75
                    cpu_start = cpu_seconds(pid)
                    done = pool_.run(
                        "throughput",
                        op="typing",
                        start_at=start,
                        duration=sizes.throughput_seconds,
                        size=0,
                    )
                    rates.append(sum(done) / sizes.throughput_seconds)
                    # CPU over the whole run incl. warm-up: ≈ 1.0 means the server was the limit.
                    elapsed = time.monotonic() - (start - 0.75)
                    cpu.append((cpu_seconds(pid) - cpu_start) / elapsed)
        finally:
            ours_pool.close()
            bare_pool.close()
        rows.append(
            Row.paired(
                SECTION_RT,
                f"typing broadcast throughput, {count} connections",
                "frames/s",
                ours_rate,
                bare_rate,
                "bare echo",
                target=("ratio", ">=", 0.5) if count >= 1000 else None,
                extra={
                    "connections_opened": list(opened),
                    "server_cpu_share": Spread.of(ours_cpu).as_dict(),
                    "bare_cpu_share": Spread.of(bare_cpu).as_dict(),
                },
                note="one frame in flight per connection; "
                f"server CPU {Spread.of(ours_cpu).median:.0%}, "
                f"bare {Spread.of(bare_cpu).median:.0%} of a core",
            )
        )
    return rows


def memory_row(count: int, before: tuple[int, int], after: tuple[int, int]) -> Row:
    ours = (after[0] - before[0]) / count / 1024
    base = (after[1] - before[1]) / count / 1024
    return Row.paired(
        SECTION_MEM,
        f"memory per idle authenticated connection, {count} connections",
        "KiB",
        [max(ours, 0.0)],
        [max(base, 0.001)],
        "bare Tornado",
        target=("ratio", "<=", 2.0),
        note="RSS delta / connections, measured once",
        extra={"rss_before": list(before), "rss_after": list(after)},
    )


def run(
    workdir: Path, sizes: Sizes, bare: BareEcho, measure: bool = True
) -> tuple[list[Row], StudyMateServer]:
    """Figures 1 and 2 (when `measure`); returns the still-running server for figure 4."""
    sm = StudyMateServer(workdir / "chat-server", SERVER_ARGS)
    sm.start()
    rows: list[Row] = []
    try:
        if measure:
            rows += latency_rows(sm, bare, sizes)
            rows += many_connection_rows(sm, bare, sizes)
    except BaseException:
        sm.stop()
        raise
    return rows, sm
