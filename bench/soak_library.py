"""The soak's library: course notes (Markdown and PDF) written into the server's root and
added and removed through REST while the chats go on, and the questions asked about them."""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .users import token_for

# Terms and what the notes say of them: enough varied text that search has something to rank.
TOPICS = {
    "eigenvalues": "scale an eigenvector without turning it, and their product is the determinant",
    "gradient descent": "steps against the gradient, and a learning rate too large diverges",
    "entropy": "measures the average surprise of a distribution in bits or nats",
    "recursion": "solves a problem through smaller copies of itself down to a base case",
    "photosynthesis": "turns light, water and carbon dioxide into glucose and oxygen",
    "supply and demand": "meet at the price where the quantity bought equals the quantity sold",
    "mitochondria": "make most of a cell's ATP through oxidative phosphorylation",
    "hash tables": "find a key in constant expected time when the load factor stays bounded",
    "the central limit theorem": "makes sums of independent variables approach a normal law",
    "ohm's law": "relates voltage, current and resistance as V equals I times R",
    "plate tectonics": "moves the lithosphere over the mantle a few centimetres a year",
    "binary search": "halves a sorted range each step and needs logarithmic time",
    "the krebs cycle": "oxidises acetyl-CoA to carbon dioxide in the mitochondrial matrix",
    "fourier series": "write a periodic function as a sum of sines and cosines",
    "inflation": "is the rise of the general price level that erodes purchasing power",
    "newton's second law": "says force equals mass times acceleration",
    "matrix rank": "counts the linearly independent rows, equal to the independent columns",
    "osmosis": "moves water across a membrane toward the higher solute concentration",
    "big o notation": "bounds how the cost of an algorithm grows with its input",
    "bayes' theorem": "updates a prior into a posterior by the likelihood of the evidence",
}
QUESTION_FORMS = (
    "What is {a}?",
    "How does {a} relate to {b}?",
    "Can you explain {a} with an example?",
    "Why does {a} matter for the exam?",
    "and {a}?",
)


def question(rng: random.Random) -> str:
    a, b = rng.sample(sorted(TOPICS), 2)
    return rng.choice(QUESTION_FORMS).format(a=a, b=b)


def _paragraphs(rng: random.Random, topic: str, count: int) -> list[str]:
    fact = TOPICS[topic]
    others = rng.sample(sorted(TOPICS), 3)
    forms = (
        f"In short, {topic} {fact}.",
        f"Students often confuse {topic} with {others[0]}, but {topic} {fact}.",
        f"A worked example: {topic} {fact}; compare {others[1]}.",
        f"Remember for the exam that {topic} {fact}, unlike {others[2]}.",
    )
    return [" ".join(rng.sample(forms, 3)) for _ in range(count)]


def markdown_notes(rng: random.Random, sections: int) -> bytes:
    lines = ["# Course notes", ""]
    for topic in rng.sample(sorted(TOPICS), sections):
        lines += [f"## {topic.title()}", "", *_paragraphs(rng, topic, 2), ""]
    return "\n".join(lines).encode()


def pdf_notes(rng: random.Random, pages: int) -> bytes:
    """A PDF with a text layer, one topic a page (Helvetica, lines of about 80 characters)."""
    streams = []
    for topic in rng.sample(sorted(TOPICS), pages):
        words = " ".join(_paragraphs(rng, topic, 2)).split()
        lines, line = [topic.title()], ""
        for word in words:
            if len(line) + len(word) > 80:
                lines.append(line)
                line = ""
            line += word + " "
        lines.append(line)
        ops = ["BT", "/F1 11 Tf", "14 TL", "72 720 Td"]
        ops += [f"({_pdf_escape(text)}) Tj T*" for text in lines]
        streams.append(zlib.compress("\n".join([*ops, "ET"]).encode("latin-1")))
    return _pdf(streams)


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _pdf(streams: list[bytes]) -> bytes:
    count = len(streams)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, stream in enumerate(streams):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources "
            f"<< /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(
            f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode()
            + stream
            + b"\nendstream"
        )
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def call(base_url: str, user: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One REST call as `user`: (HTTP status, decoded JSON or None). Errors are answers too."""
    request = urllib.request.Request(
        base_url + "studymate/api/" + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {token_for(user)}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


@dataclass
class Churn:
    """A thread that adds and removes documents of every user until told to stop.

    Each user starts with `initial` documents and keeps between `low` and `high`: a step every
    `interval` seconds (on average) adds one to a random user (a new Markdown or PDF file) or
    removes one (and, half the time, its file), as likely as not between the bounds, so the
    library's size stays about the same all run long and memory growth is not its growth.
    """

    base_url: str
    root: Path
    users: list[str]
    interval: float
    seed: int = 0
    initial: int = 3
    low: int = 2
    high: int = 4
    added: int = 0
    removed: int = 0
    failures: list[str] = field(default_factory=list)
    live: dict[str, dict[str, str]] = field(default_factory=dict)  # user → {id: path}
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def seed_library(self) -> None:
        """Every user starts with `initial` documents, so the first questions find passages."""
        rng = random.Random(self.seed)
        for user in self.users:
            for _ in range(self.initial):
                self._add(rng, user)

    def documents(self) -> int:
        """Documents in the library now, every user's."""
        return sum(len(held) for held in list(self.live.values()))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="soak-churn", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(60)

    def _run(self) -> None:
        rng = random.Random(self.seed + 1)
        while not self._stop.wait(rng.uniform(0.5, 1.5) * self.interval):
            user = rng.choice(self.users)
            held = len(self.live.get(user, {}))
            try:
                if held <= self.low or (held < self.high and rng.random() < 0.5):
                    self._add(rng, user)
                else:
                    self._remove(rng, user)
            except OSError as exc:  # the server did not answer at all
                self.failures.append(f"documents: {type(exc).__name__}: {exc}")

    def _add(self, rng: random.Random, user: str) -> None:
        folder = self.root / user
        folder.mkdir(exist_ok=True)
        number = self.added
        if rng.random() < 0.5:
            name, data = f"notes-{number}.md", markdown_notes(rng, rng.randint(3, 6))
        else:
            name, data = f"notes-{number}.pdf", pdf_notes(rng, rng.randint(2, 4))
        (folder / name).write_bytes(data)
        path = f"{user}/{name}"
        status, body = call(self.base_url, user, "POST", "documents", {"path": path})
        if status not in (200, 202):
            self.failures.append(f"POST documents {path}: HTTP {status} {body}")
            return
        self.added += 1
        self.live.setdefault(user, {})[str(body["id"])] = path

    def _remove(self, rng: random.Random, user: str) -> None:
        held = self.live.get(user, {})
        document_id = rng.choice(sorted(held))
        path = held.pop(document_id)
        status, body = call(self.base_url, user, "DELETE", f"documents/{document_id}")
        if status != 204:
            self.failures.append(f"DELETE documents/{document_id}: HTTP {status} {body}")
            return
        self.removed += 1
        if rng.random() < 0.5:
            (self.root / path).unlink()

    def settle(self, timeout: float) -> dict[str, int]:
        """Wait until no document is queued or indexing; the documents by status then.

        A document that failed to index is a failure: every file written here is valid.
        """
        deadline = time.monotonic() + timeout
        while True:
            statuses: dict[str, int] = {}
            for user in self.users:
                status, body = call(self.base_url, user, "GET", "documents")
                if status != 200:
                    self.failures.append(f"GET documents: HTTP {status} {body}")
                    return statuses
                for document in body["documents"]:
                    statuses[document["status"]] = statuses.get(document["status"], 0) + 1
                    if document["status"] == "failed":
                        message = f"{document['path']} failed: {document['error']}"
                        if message not in self.failures:
                            self.failures.append(message)
            busy = statuses.get("queued", 0) + statuses.get("indexing", 0)
            if not busy or time.monotonic() > deadline:
                return statuses
            time.sleep(0.5)
