"""Where the time of many writers goes: `python -m bench.writers [--writers 50 --seconds 4]`.

Runs figure 4's load (each writer a user of its own with a chat of its own, one message in
flight, the instant assistant replying) twice: with replies as usual and with replies turned off
(the user message is stored and acknowledged, and nothing answers it). For each run it prints
the acknowledged messages a second, the group-commit batch sizes, the time a batch runs and a
write() takes to come back, the CPU each server thread used (the event loop, the writer, the
readers), the load generators' own CPU and the garbage collector's pauses, beside raw sqlite3
inserts of the same rows in the same run.

As a server extension this module wraps `Database.write` and `Database._run_batch` with
timestamps (time.perf_counter_ns, one clock for both threads), times each garbage collection,
and writes all of it to $STUDYMATE_WRITES when the server stops; replies are turned off by
loading bench.no_replies beside it. It is never loaded outside this bench.
"""

from __future__ import annotations

import argparse
import atexit
import functools
import gc
import json
import os
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from .persistence import RawWriter, writer_pool
from .roundtrip import SERVER_ARGS
from .servers import CLOCK_TICKS, ManyUsersServer, cpu_seconds
from .stats import percentile

WRITES: list[tuple[int, int]] = []  # (called, returned) of every Database.write
BATCHES: list[tuple[int, int, int]] = []  # (writer starts, committed, jobs) of every batch
COLLECTIONS: list[tuple[int, int, int]] = []  # (started, ended, generation) of every gc run


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "bench.writers"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from studymate_jupyter.store.db import Database

    write, run_batch = Database.write, Database._run_batch

    @functools.wraps(write)
    async def timed_write(self: Database, fn: Any) -> Any:
        called = time.perf_counter_ns()
        try:
            return await write(self, fn)
        finally:
            WRITES.append((called, time.perf_counter_ns()))

    threads = Path(os.environ["STUDYMATE_WRITES"] + ".threads")
    named = {"event loop": threading.get_native_id()}

    lock = threading.Lock()

    def name_thread(name: str) -> None:
        # Python's pool threads carry no OS-level name: tell the driver which is which. A
        # read run on the loop thread itself keeps the loop's name.
        tid = threading.get_native_id()
        with lock:
            if tid not in named.values():
                named[name] = tid
                threads.write_text(json.dumps(named))

    threads.write_text(json.dumps(named))

    @functools.wraps(run_batch)
    def timed_batch(self: Database, batch: list[Any]) -> Any:
        name_thread("writer")
        started = time.perf_counter_ns()
        try:
            return run_batch(self, batch)
        finally:
            BATCHES.append((started, time.perf_counter_ns(), len(batch)))

    read_sync = Database.read_sync

    @functools.wraps(read_sync)
    def named_read(self: Database, fn: Any) -> Any:
        name_thread(f"reader {threading.get_native_id()}")
        return read_sync(self, fn)

    Database.read_sync = named_read  # type: ignore[method-assign]
    collecting: list[int] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        # A collection stops every thread: its pauses are part of every latency above.
        if phase == "start":
            collecting.append(time.perf_counter_ns())
        elif collecting:
            COLLECTIONS.append((collecting.pop(), time.perf_counter_ns(), info["generation"]))

    gc.callbacks.append(on_gc)
    Database.write = timed_write  # type: ignore[method-assign]
    Database._run_batch = timed_batch  # type: ignore[method-assign]
    out = os.environ["STUDYMATE_WRITES"]
    atexit.register(
        lambda: Path(out).write_text(json.dumps({"w": WRITES, "b": BATCHES, "gc": COLLECTIONS}))
    )


# ---- the run ----------------------------------------------------------------------------------


def thread_cpu(pid: int, names: dict[str, int]) -> dict[str, float]:
    """CPU seconds of each named thread of a process, the readers as one, and the rest."""
    by_id = {tid: "readers" if name.startswith("reader") else name for name, tid in names.items()}
    out: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended meanwhile
        name = by_id.get(int(task.name), "other threads")
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return out


def measure(
    workdir: Path, writers: int, seconds: float, replies: bool, server_args: list[str]
) -> dict[str, Any]:
    """One run of `writers` closed-loop writers against a fresh server."""
    out = workdir / f"writes-{replies}.json"
    os.environ["STUDYMATE_WRITES"] = str(out)
    server = ManyUsersServer(
        workdir / f"server-{replies}",
        "s0",
        [
            *SERVER_ARGS,
            "--ServerApp.jpserver_extensions={'studymate_jupyter': True, 'bench.writers': True"
            + ("}" if replies else ", 'bench.no_replies': True}"),
            *server_args,
        ],
    )
    with server:
        # A user per writer, each in a chat of their own (figure 4's first row).
        pool = writer_pool(server, writers, 2)
        try:
            pool.ready()
            start = time.monotonic() + 0.75
            # The window opens at `start`; CPU is read across it (warm-up left out).
            time.sleep(max(0.0, start - time.monotonic()))
            names = json.loads(Path(f"{out}.threads").read_text())
            threads_before = thread_cpu(server.pid, names)
            load_before = sum(cpu_seconds(p.pid) for p in pool.processes if p.pid)
            started_ns = time.perf_counter_ns()
            wall = time.monotonic()
            done = pool.run("throughput", op="message", start_at=start, duration=seconds, size=64)
            ended_ns = started_ns + int(seconds * 1e9)
            # `run` returns after the window and the replies' drain: CPU is over both.
            names = json.loads(Path(f"{out}.threads").read_text())
            threads_after = thread_cpu(server.pid, names)
            load_after = sum(cpu_seconds(p.pid) for p in pool.processes if p.pid)
            elapsed = time.monotonic() - wall
        finally:
            pool.close()
    events = json.loads(out.read_text())
    in_window = [b for b in events["b"] if started_ns <= b[0] <= ended_ns]
    writes = [w for w in events["w"] if started_ns <= w[0] <= ended_ns]
    collections = [c for c in events["gc"] if started_ns <= c[0] <= ended_ns]
    return {
        "gc": {
            generation: [(c[1] - c[0]) / 1e6 for c in collections if c[2] == generation]
            for generation in (0, 1, 2)
        },
        "rate": sum(done) / seconds,
        "messages": sum(done),
        "batches": [b[2] for b in in_window],
        "batch_ms": [(b[1] - b[0]) / 1e6 for b in in_window],
        "write_ms": [(w[1] - w[0]) / 1e6 for w in writes],
        "writes": len(writes),
        "threads": {
            name: (threads_after.get(name, 0.0) - threads_before.get(name, 0.0)) / elapsed
            for name in threads_after
        },
        "load": (load_after - load_before) / elapsed,
    }


def spread(values: list[float], unit: str) -> str:
    if not values:
        return "none"
    return (
        f"p50 {percentile(values, 50):.2f} {unit}, p90 {percentile(values, 90):.2f}, "
        f"p99 {percentile(values, 99):.2f}, max {max(values):.2f}"
    )


def report(name: str, found: dict[str, Any], raw: float) -> None:
    batches = found["batches"]
    print(f"\n{name}: {found['rate']:.0f} acknowledged msg/s ({found['rate'] / raw:.3f}× raw)")
    per_message = found["writes"] / max(1, found["messages"])
    print(f"  writes in the window: {found['writes']}, {per_message:.1f} per user message")
    if batches:
        sizes = Counter(min(size, 64) for size in batches)
        print(
            f"  batches: {len(batches)}, jobs per batch mean {sum(batches) / len(batches):.1f}, "
            f"{spread([float(b) for b in batches], 'jobs')}"
        )
        print("  batch sizes:  " + "  ".join(f"{s}:{n}" for s, n in sorted(sizes.items())))
    print(f"  batch run (writer starts → committed): {spread(found['batch_ms'], 'ms')}")
    print(f"  write() → returned to the caller:       {spread(found['write_ms'], 'ms')}")
    threads = ", ".join(
        f"{name} {share:.0%}"
        for name, share in sorted(found["threads"].items(), key=lambda t: -t[1])
        if share >= 0.005
    )
    print(f"  server CPU by thread (share of one core): {threads}")
    print(f"  load generators' CPU: {found['load']:.0%} of one core")
    for generation, pauses in found["gc"].items():
        if pauses:
            print(
                f"  gc generation {generation}: {len(pauses)} collections, "
                f"{sum(pauses):.1f} ms in all, longest {max(pauses):.1f} ms"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument(
        "--server-arg",
        action="append",
        default=[],
        help="a setting for the server under test, e.g. --server-arg="
        "--StudyMate.freeze_startup_objects=False (repeat for more)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        raw_writer = RawWriter(workdir / "raw.db", args.writers)
        try:
            raw = raw_writer.rate(args.seconds, "x" * 64)
        finally:
            raw_writer.close()
        print(f"raw sqlite3, commit per row: {raw:.0f} rows/s")
        for replies in (True, False):
            found = measure(workdir, args.writers, args.seconds, replies, args.server_arg)
            report("replies as usual" if replies else "replies off", found, raw)


if __name__ == "__main__":
    main()
