"""How big and how long each figure runs: the full run, `--quick`, and the smoke test's tiny."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Sizes:
    reps: int  # repetitions of each timed figure (median, min and max are over these)
    typing_samples: int  # round trips per repetition, 1 client
    typing_interval: float  # seconds between sends (same pacing for StudyMate and bare)
    message_samples: int
    message_interval: float
    message_bytes: int  # content bytes of a user message
    conn_counts: tuple[int, ...]  # concurrent connections for throughput; the first for memory
    throughput_seconds: float
    processes: int  # load-generator processes for the many-connection figures
    writers: int  # concurrent writers for persistence
    persist_seconds: float
    history_total: int  # messages in the database
    history_chat: int  # messages in the chat whose last page is loaded
    history_samples: int
    history_limit: int
    stream_pieces: int  # pieces the fake model streams
    stream_delay: float  # seconds between pieces
    stream_reps: int
    ingest_pdf: str  # file in bench/.cache to ingest ("" skips the PDF ingestion figure)
    search_chunks: int
    search_samples: int
    answer_samples: int
    hybrid_chunks: int  # chunks in the hybrid search library (figure 7)
    hybrid_samples: int  # questions per repetition (at most the eval set's 66)
    ingest_hybrid: bool  # figure 8 ingests the large PDF (else a generated Markdown file)
    ingest_sections: int  # sections of that generated file
    embed_chunks: int  # chunks MiniLM encodes per repetition
    embed_chunks_fast: int  # chunks wordllama encodes per repetition
    embed_reps: int
    embed_pages: int  # pages pypdf extracts for its baseline rate
    # Figure 11 (bench/postgres.py): servers on one PostgreSQL, writers on each, chunks searched.
    pg_servers: int = 4
    pg_writers: int = 50
    pg_chunks: int = 100_000
    # Idle after each round trip (and its reply) in the after-idle latency rows, as between a
    # person's keystrokes and questions; those rows take a quarter of the samples.
    idle_gap: float = 0.02

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


FULL = Sizes(
    reps=5,
    typing_samples=1000,
    typing_interval=0.005,
    message_samples=300,
    message_interval=0.02,
    message_bytes=64,
    conn_counts=(1000, 100),
    throughput_seconds=4.0,
    processes=2,
    writers=50,
    persist_seconds=4.0,
    history_total=1_000_000,
    history_chat=100_000,
    history_samples=300,
    history_limit=100,
    stream_pieces=2000,
    stream_delay=0.002,
    stream_reps=3,
    ingest_pdf="octave.pdf",
    search_chunks=100_000,
    search_samples=40,
    answer_samples=20,
    hybrid_chunks=100_000,
    hybrid_samples=66,
    ingest_hybrid=True,
    ingest_sections=30,
    embed_chunks=256,
    embed_chunks_fast=2048,
    embed_reps=3,
    embed_pages=100,
)

QUICK = replace(
    FULL,
    reps=3,
    typing_samples=200,
    message_samples=30,
    conn_counts=(300, 100),
    throughput_seconds=1.0,
    persist_seconds=2.0,
    history_total=100_000,
    history_chat=10_000,
    history_samples=100,
    stream_pieces=500,
    stream_reps=2,
    ingest_pdf="",
    search_chunks=10_000,
    search_samples=30,
    answer_samples=5,
    hybrid_chunks=10_000,
    pg_chunks=10_000,
    ingest_hybrid=False,
    ingest_sections=30,
    embed_chunks=64,
    embed_chunks_fast=512,
    embed_reps=2,
    embed_pages=30,
)

# For the smoke test: the same code through the real servers, at sizes that take seconds.
TINY = replace(
    QUICK,
    reps=1,
    typing_samples=5,
    message_samples=3,
    typing_interval=0.001,
    message_interval=0.001,
    conn_counts=(4,),
    throughput_seconds=0.3,
    processes=1,
    writers=3,
    persist_seconds=0.3,
    history_total=2_000,
    history_chat=300,
    history_samples=5,
    stream_pieces=30,
    stream_delay=0.001,
    stream_reps=1,
    search_chunks=500,
    search_samples=5,
    answer_samples=2,
    hybrid_chunks=500,
    hybrid_samples=5,
    pg_servers=2,
    pg_writers=2,
    pg_chunks=500,
    ingest_sections=2,
    embed_chunks=8,
    embed_chunks_fast=64,
    embed_reps=1,
    embed_pages=3,
    idle_gap=0.001,
)
