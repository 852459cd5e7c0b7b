"""`python -m bench.soak [--minutes 15] [--connections 300]`: a soak through a real server.

For `--minutes` (15 by default), `--connections` WebSocket connections (300; two to a chat,
the chats spread over `--users` users named by the server's identity provider) each chat,
type, reload history, reconnect, drop a connection mid-send and resend, and now and then make
a mistake on purpose, in a closed loop with think time (bench/soak_client.py), while a thread
adds and removes every user's documents (Markdown and PDF files written into the server's
root) through REST (bench/soak_library.py). The assistant is the default offline extractive
one over the default hybrid retriever; every limit is the server's default.

It reports the acknowledged messages, the error frames nobody provoked, the server's RSS
(sampled from /proc/<pid>/status: its peak, its end, and its growth between the first and the
last quarter of the run, so a leak shows), p50 and p99 of the echo (sent → stored and
echoed) and of the reply (sent → the reply's final frame), each beside the same figure over
the run's first `--short-seconds` (the short run), and after the run checks in the SQLite
file that every acknowledged message is stored exactly once, in its chat, with exactly one
reply, and that nothing was stored that no connection sent. Any failure (an unprovoked error
frame, a socket the server closed, a frame late past its timeout, history lacking an
acknowledged message, a document that failed, an `[E` line in the server's log, RSS over
`--rss-limit-mib`) makes it exit 1. `python -m bench --only 10` runs it as figure 10.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import queue
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .process import git_revision, raise_fd_limit
from .report import Row, table
from .servers import ManyUsersServer, cpu_seconds
from .sizes import QUICK, TINY, Sizes
from .soak_client import REPLY_TIMEOUT, Plan, Report, worker
from .soak_library import Churn, call
from .stats import Spread, percentile

SECTION = "10."
RESULTS = Path(__file__).resolve().parent / "results" / "soak.json"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Scale:
    minutes: float
    connections: int  # two to a chat
    users: int
    processes: int  # load-generator processes
    think: float  # mean seconds a connection waits between turns
    short_seconds: float  # the short run: the first seconds of the same run
    doc_interval: float  # mean seconds between two document additions or removals
    rss_limit_mib: float  # the server's peak RSS (VmHWM) may not pass it
    sample_interval: float  # seconds between RSS samples


FULL = Scale(
    minutes=15,
    connections=300,
    users=50,
    processes=2,
    think=5.0,
    short_seconds=30,
    doc_interval=3.0,
    rss_limit_mib=1024,
    sample_interval=1.0,
)
QUICK_SCALE = replace(FULL, minutes=1.5)
TINY_SCALE = replace(
    FULL,
    minutes=0.15,
    connections=8,
    users=2,
    processes=1,
    think=0.5,
    short_seconds=3,
    doc_interval=0.5,
    sample_interval=0.2,
)


def scale_for(sizes: Sizes) -> Scale:
    """The soak's scale in `python -m bench`: FULL, or shorter for --quick and the smoke test."""
    return QUICK_SCALE if sizes == QUICK else TINY_SCALE if sizes == TINY else FULL


def log(text: str) -> None:
    print(f"[soak {datetime.now(UTC):%H:%M:%S}] {text}", file=sys.stderr, flush=True)


# ---- the server and its memory ---------------------------------------------------------------


def status_kib(pid: int, *fields: str) -> list[int]:
    """Fields of /proc/<pid>/status given in kB (VmRSS, VmHWM), in KiB; 0 for a missing one."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in fields:
            found[key] = int(value.split()[0])
    return [found.get(f, 0) for f in fields]


class Memory:
    """A thread that samples the server's VmRSS every `interval` seconds, `t` from the start,
    with the number of documents in the library then (memory that follows it is no leak)."""

    def __init__(self, pid: int, interval: float, documents: Callable[[], int]) -> None:
        self.pid = pid
        self.interval = interval
        self.documents = documents
        self.start_at = time.monotonic()
        self.samples: list[tuple[float, float]] = []  # (t, MiB)
        self.library: list[int] = []  # documents at each sample
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-memory", daemon=True)

    def _run(self) -> None:
        while True:
            (rss,) = status_kib(self.pid, "VmRSS")
            self.library.append(self.documents())
            self.samples.append((time.monotonic() - self.start_at, rss / 1024))
            if self._stop.wait(self.interval):
                return

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


# ---- the check of the store ------------------------------------------------------------------


def check_store(
    db_path: Path, acked: list[tuple[str, str, str]], sent: set[tuple[str, str]]
) -> dict[str, Any]:
    """Compare the SQLite file with what the connections saw acknowledged."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        stored: dict[tuple[str, str], tuple[str, int]] = {
            (user, mid): (chat, n)
            for user, mid, chat, n in db.execute(
                "SELECT user_id, id, MIN(chat_id), COUNT(*) FROM messages WHERE role = 'user' "
                "GROUP BY user_id, id"
            )
        }
        replies: dict[tuple[str, str], int] = {
            (user, reply_to): n
            for user, reply_to, n in db.execute(
                "SELECT user_id, reply_to, COUNT(*) FROM messages WHERE role = 'assistant' "
                "GROUP BY user_id, reply_to"
            )
        }
        statuses = dict(
            db.execute("SELECT status, COUNT(*) FROM messages GROUP BY status").fetchall()
        )
    finally:
        db.close()
    keys = Counter((user, mid) for user, mid, _ in acked)
    not_once = [k for k in keys if k not in stored or stored[k][1] != 1]
    wrong_chat = [(u, m) for u, m, chat in acked if (u, m) in stored and stored[(u, m)][0] != chat]
    not_answered_once = [k for k in keys if replies.get(k, 0) != 1]
    unacked_stored = [k for k in stored if k not in keys]
    never_sent = [k for k in unacked_stored if k not in sent]
    return {
        "acknowledged": len(keys),
        "acknowledged_twice_by_the_bench": sum(1 for n in keys.values() if n > 1),
        "user_messages_stored": len(stored),
        "not_stored_exactly_once": len(not_once),
        "stored_in_another_chat": len(wrong_chat),
        "not_answered_exactly_once": len(not_answered_once),
        "stored_without_acknowledgement": len(unacked_stored),
        "stored_but_never_sent": len(never_sent),
        "statuses": statuses,
        "examples": [list(k) for k in (not_once + not_answered_once + never_sent)[:10]],
    }


def store_failures(check: dict[str, Any]) -> list[str]:
    keys = (
        "acknowledged_twice_by_the_bench",
        "not_stored_exactly_once",
        "stored_in_another_chat",
        "not_answered_exactly_once",
        "stored_but_never_sent",
    )
    out = [f"store: {check[k]} {k.replace('_', ' ')}" for k in keys if check[k]]
    if check["statuses"].get("streaming"):
        out.append(f"store: {check['statuses']['streaming']} replies still streaming at the end")
    return out


# ---- the run ---------------------------------------------------------------------------------


def merge(reports: list[Report]) -> Report:
    out = Report()
    for r in reports:
        out.echo += r.echo
        out.reply += r.reply
        out.history += r.history
        out.acked += r.acked
        out.unacked += r.unacked
        out.errors += r.errors
        out.failures += r.failures
        out.counts.update(r.counts)
        out.reply_status.update(r.reply_status)
    return out


def plans(url: str, scale: Scale, chats: dict[str, list[str]]) -> list[Plan]:
    conns = [(user, chat) for user, ids in chats.items() for chat in ids for _ in (0, 1)]
    return [
        Plan(url, tuple(conns[p :: scale.processes]), scale.think, seed=p + 1)
        for p in range(scale.processes)
        if conns[p :: scale.processes]
    ]


def server_log_errors(path: Path) -> list[str]:
    """The server's error lines (`[E …`), which no well-behaved client should cause."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    return [line for line in lines if line.startswith("[E ")]


def run(workdir: Path, scale: Scale) -> dict[str, Any]:
    """One soak; the result document (what soak.json holds), with its failures."""
    started = time.monotonic()
    users = [f"student{n:02d}" for n in range(scale.users)]
    load_before = os.getloadavg()
    with ManyUsersServer(workdir, users[0]) as server:
        pid = server.pid
        churn = Churn(server.url, server.root_dir, users, scale.doc_interval)
        churn.seed_library()
        seeded = churn.added
        churn.settle(120)
        per_user = max(1, scale.connections // 2 // scale.users)
        chats: dict[str, list[str]] = {}
        for user in users:
            for n in range(per_user):
                status, body = call(server.url, user, "POST", "chats", {"title": f"soak {n}"})
                if status != 201:
                    raise RuntimeError(f"POST chats: HTTP {status} {body}")
                chats.setdefault(user, []).append(str(body["id"]))
        context = multiprocessing.get_context("spawn")
        jobs = plans(server.ws_plain_url, scale, chats)
        commands = [context.Queue() for _ in jobs]
        results = [context.Queue() for _ in jobs]
        processes = [
            context.Process(target=worker, args=(plan, c, r), daemon=True)
            for plan, c, r in zip(jobs, commands, results, strict=True)
        ]
        for process in processes:
            process.start()
        try:
            connected = 0
            for r in results:
                kind, value = r.get(True, 180)
                if kind != "ready":
                    raise RuntimeError(f"load generator failed: {value}")
                connected += value
            log(f"{connected} connections open, {scale.users} users; running {scale.minutes:g} min")
            time.sleep(1.0)
            (idle_rss,) = status_kib(pid, "VmRSS")
            duration = scale.minutes * 60
            memory = Memory(pid, scale.sample_interval, churn.documents)
            start_at = memory.start_at = time.monotonic() + 1.0
            end_at = start_at + duration
            for c in commands:
                c.put((start_at, end_at))
            memory.start()
            cpu_start = cpu_seconds(pid)
            time.sleep(max(0.0, start_at - time.monotonic()))
            churn.start()
            reports: list[Report] = []
            pending = list(results)
            deadline = end_at + REPLY_TIMEOUT + 120
            while pending:
                try:
                    kind, value = pending[0].get(
                        True, min(60.0, max(0.1, deadline - time.monotonic()))
                    )
                except queue.Empty:
                    if time.monotonic() > deadline:
                        raise RuntimeError("load generators did not finish") from None
                    (rss,) = status_kib(pid, "VmRSS")
                    log(f"{time.monotonic() - start_at:5.0f} s, server RSS {rss / 1024:.0f} MiB")
                    if time.monotonic() < end_at:
                        churn_now = f"{churn.added} documents added, {churn.removed} removed"
                        log(churn_now)
                    continue
                if kind != "done":
                    raise RuntimeError(f"load generator failed: {value}")
                reports.append(value)
                pending.pop(0)
            churn.stop()
            cpu_share = (cpu_seconds(pid) - cpu_start) / (time.monotonic() - start_at)
            memory.stop()
            documents = churn.settle(60)
            wait_for_replies(server.db_path, 30)
            (end_rss, hwm) = status_kib(pid, "VmRSS", "VmHWM")
        finally:
            for process in processes:
                process.join(30)
                if process.is_alive():
                    process.terminate()
                    process.join(5)
    report = merge(reports)
    sent = {(u, m) for u, m, _ in report.acked + report.unacked}
    check = check_store(server.db_path, report.acked, sent)
    log_errors = server_log_errors(server.log_path)
    load_after = os.getloadavg()
    others = store_failures(check) + churn.failures
    others += [f"server log: {line[:300]}" for line in log_errors[:20]]
    if hwm / 1024 > scale.rss_limit_mib:
        others.append(f"server peak RSS {hwm / 1024:.0f} MiB over {scale.rss_limit_mib:g} MiB")
    # The texts are capped (each load generator keeps its first 200), the count is not.
    failure_count = report.counts["failures"] + len(report.errors) + len(others)
    failures = [f"unprovoked error frame: {e}" for e in report.errors[:50]]
    failures += report.failures + others
    figures = figures_of(report, memory, scale, idle_rss / 1024, end_rss / 1024, hwm / 1024)
    figures.update(
        {
            "server_cpu_share": cpu_share,
            "documents_added": churn.added - seeded,
            "documents_seeded": seeded,
            "documents_removed": churn.removed,
            "documents_at_end": documents,
            "server_log_errors": len(log_errors),
            "store": check,
            "counts": dict(report.counts),
            "reply_status": dict(report.reply_status),
            "unprovoked_error_frames": len(report.errors),
            "failures": failure_count,
        }
    )
    result: dict[str, Any] = {
        "meta": {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
            "seconds": round(time.monotonic() - started, 1),
            "scale": asdict(scale),
            "connections_open": connected,
        },
        "figures": figures,
        "failures": failures,
    }
    rows = rows_of(result)
    result["rows"] = [row.as_dict() for row in rows]
    result["table"] = table(rows, [])
    return result


def wait_for_replies(db_path: Path, timeout: float) -> None:
    """Until no reply is streaming (a resent message's reply may still be on its way)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            (streaming,) = db.execute(
                "SELECT COUNT(*) FROM messages WHERE status = 'streaming'"
            ).fetchone()
        finally:
            db.close()
        if not streaming:
            return
        time.sleep(0.5)


def _window(samples: list[tuple[float, float]], lo: float, hi: float) -> list[float]:
    return [value for t, value in samples if lo <= t < hi]


def _ms(values: list[float], q: float) -> float | None:
    return percentile(values, q) * 1000 if values else None


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def figures_of(
    report: Report,
    memory: Memory,
    scale: Scale,
    idle_mib: float,
    end_mib: float,
    hwm_mib: float,
) -> dict[str, Any]:
    duration = scale.minutes * 60
    windows = {
        "run": (0.0, float("inf")),
        "short": (0.0, scale.short_seconds),
        "last_quarter": (0.75 * duration, float("inf")),
    }
    latency: dict[str, dict[str, float | None]] = {}
    for what, samples in (
        ("echo", report.echo),
        ("reply", report.reply),
        ("history", report.history),
    ):
        for name, (lo, hi) in windows.items():
            values = _window(samples, lo, hi)
            latency[f"{what}_{name}"] = {
                "n": len(values),
                "p50_ms": _ms(values, 50),
                "p99_ms": _ms(values, 99),
            }
    rss = memory.samples
    library = [(t, float(n)) for (t, _), n in zip(rss, memory.library, strict=True)]
    first = _window(rss, 0.0, duration / 4)
    last = _window(rss, 0.75 * duration, duration + scale.sample_interval)
    quarters = (0.0, duration / 4), (0.75 * duration, duration + scale.sample_interval)
    return {
        "acknowledged": len(report.acked),
        "acknowledged_per_s": len(report.acked) / duration,
        "latency": latency,
        "rss_mib": {
            "idle_before": idle_mib,
            "peak_sampled": max((v for _, v in rss), default=0.0),
            "peak_hwm": hwm_mib,
            "end": end_mib,
            "first_quarter_mean": mean(first),
            "last_quarter_mean": mean(last),
            "growth_first_to_last_quarter": mean(last) - mean(first),
            "documents_first_and_last_quarter": [mean(_window(library, *q)) for q in quarters],
            # Every 10th sample is enough to draw it: [t, MiB, documents in the library].
            "samples": [
                [round(t, 1), round(v, 1), n]
                for (t, v), n in list(zip(rss, memory.library, strict=True))[::10]
            ],
        },
    }


def rows_of(result: dict[str, Any]) -> list[Row]:
    """The soak's figures as rows of the bench table, each beside its short run."""
    f, scale = result["figures"], result["meta"]["scale"]
    where = f"{result['meta']['connections_open']} connections, {scale['minutes']:g} min"
    short = f"first {scale['short_seconds']:g} s"
    rows: list[Row] = []
    latency = f["latency"]
    for what, label in (("echo", "durable message echo"), ("reply", "reply complete")):
        for window, q in (("run", 50), ("run", 99), ("last_quarter", 99)):
            ours = latency[f"{what}_{window}"][f"p{q}_ms"]
            base = latency[f"{what}_short"][f"p{q}_ms"]
            if ours is None:
                continue
            span = "" if window == "run" else ", last quarter"
            text = f"soak, {where}: {label} p{q}{span}"
            if base:
                rows.append(Row.paired(SECTION, text, "ms", [ours], [base], short))
            else:
                rows.append(Row(SECTION, text, "ms", Spread.of([ours])))
    rss = f["rss_mib"]
    rows.append(
        Row.paired(
            SECTION,
            f"soak, {where}: server peak RSS (VmHWM)",
            "MiB",
            [rss["peak_hwm"]],
            [rss["idle_before"]],
            "connected, before the load",
            target=("value", "<=", scale["rss_limit_mib"]),
            note=f"end {rss['end']:.0f} MiB",
        )
    )
    rows.append(
        Row.paired(
            SECTION,
            f"soak, {where}: server RSS, mean of the last quarter",
            "MiB",
            [rss["last_quarter_mean"]],
            [rss["first_quarter_mean"]],
            "mean of the first quarter",
            note=f"growth {rss['growth_first_to_last_quarter']:+.1f} MiB",
        )
    )
    counts = f["counts"]
    rows.append(
        Row(
            SECTION,
            f"soak, {where}: acknowledged messages",
            "msg",
            Spread.of([f["acknowledged"]]),
            note=(
                f"{f['acknowledged_per_s']:.1f} msg/s; {counts.get('history pages', 0)} history "
                f"pages, {counts.get('reconnects', 0)} reconnects, "
                f"{counts.get('resent after a drop', 0)} resent after a drop, "
                f"{counts.get('provoked errors', 0)} provoked errors, "
                f"{f['documents_added']} documents added, {f['documents_removed']} removed"
            ),
        )
    )
    store = f["store"]
    for label, value, unit in (
        ("unprovoked error frames", f["unprovoked_error_frames"], "frames"),
        (
            "acknowledged messages not stored and answered exactly once",
            store["not_stored_exactly_once"] + store["not_answered_exactly_once"],
            "msg",
        ),
        ("failures of any kind", f["failures"], "failures"),
    ):
        rows.append(
            Row(
                SECTION,
                f"soak, {where}: {label}",
                unit,
                Spread.of([value]),
                target=("value", "<=", 0),
            )
        )
    return rows


def rows_for(workdir: Path, sizes: Sizes) -> list[Row]:
    """Figure 10 in `python -m bench`: the soak at the scale of the run's sizes."""
    result = run(workdir / "soak", scale_for(sizes))
    for failure in result["failures"][:20]:
        log(f"failure: {failure}")
    return rows_of(result)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--minutes", type=float, default=FULL.minutes, help="default: 15")
    parser.add_argument("--connections", type=int, default=FULL.connections, help="default: 300")
    parser.add_argument("--users", type=int, default=FULL.users, help="default: 50")
    parser.add_argument("--processes", type=int, default=FULL.processes, help="load generators (2)")
    parser.add_argument(
        "--think",
        type=float,
        default=FULL.think,
        help="mean seconds between a connection's turns (5)",
    )
    parser.add_argument(
        "--short-seconds",
        type=float,
        default=FULL.short_seconds,
        help="the short run: the first seconds of the run (30)",
    )
    parser.add_argument(
        "--doc-interval",
        type=float,
        default=FULL.doc_interval,
        help="mean seconds between document changes (3)",
    )
    parser.add_argument(
        "--rss-limit-mib",
        type=float,
        default=FULL.rss_limit_mib,
        help="fail over this peak server RSS",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"default: {RESULTS}")
    parser.add_argument(
        "--workdir", type=Path, help="keep the server's files and log here (default: a temp dir)"
    )
    args = parser.parse_args(argv)
    scale = Scale(
        minutes=args.minutes,
        connections=args.connections,
        users=args.users,
        processes=args.processes,
        think=args.think,
        short_seconds=min(args.short_seconds, args.minutes * 60 / 4),
        doc_interval=args.doc_interval,
        rss_limit_mib=args.rss_limit_mib,
        sample_interval=min(1.0, args.minutes * 60 / 200),
    )
    raise_fd_limit()
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        result = run(args.workdir, scale)
    else:
        with tempfile.TemporaryDirectory(prefix="studymate-soak-") as tmp:
            result = run(Path(tmp), scale)
    result["meta"]["revision"] = git_revision()
    result["meta"]["command"] = " ".join(
        ["python -m bench.soak", *(argv if argv is not None else sys.argv[1:])]
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(result["table"])
    meta, figures = result["meta"], result["figures"]
    print(
        f"\n{meta['date']} · {meta['machine']} · load average {meta['load_average_before'][0]:.1f} "
        f"before, {meta['load_average_after'][0]:.1f} after · server CPU "
        f"{figures['server_cpu_share']:.0%} of a core · {meta['seconds']} s · written to {args.out}"
    )
    if figures["failures"]:
        print(f"\nFAILED: {figures['failures']} failures, the first:")
        for failure in result["failures"][:20]:
            print(f"- {failure}")
        return 1
    print("\nOK: no unprovoked error frame, every acknowledged message stored and answered once")
    return 0


if __name__ == "__main__":
    sys.exit(main())
