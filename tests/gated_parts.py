"""The default retriever with its vector step held back until a test lets it go, so a test
can see a document searchable by its words before its vectors are computed.

`--StudyMate.retriever=gated_parts:GatedHybrid`; `GATE.set()` lets the vectors be computed.
The encoders are the real ones; only their use by the background vector step waits.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from studymate_jupyter.library.hybrid import HybridRetriever

if TYPE_CHECKING:
    from collections.abc import Sequence

    from studymate_jupyter.library.encoders import Encoder

GATE = threading.Event()
# Longer than any test waits for it; short enough that a forgotten gate cannot hang a run.
LONGEST_WAIT = 30.0


class _Held:
    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.name = inner.name
        self.cost = inner.cost

    def encode(self, texts: Sequence[str]) -> Any:
        if not GATE.wait(LONGEST_WAIT):
            raise TimeoutError("the test never opened the vector gate")
        return self.inner.encode(texts)


class GatedHybrid(HybridRetriever):
    name = "gated-hybrid"

    def encoders(self) -> Sequence[Encoder]:
        return [_Held(encoder) for encoder in super().encoders()]
