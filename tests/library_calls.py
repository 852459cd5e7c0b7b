"""What the library tests share: a Markdown course note, and adding a document through REST
until it is indexed."""

from __future__ import annotations

import asyncio

# Sections long enough (over 30 words) to be passages of their own.
CALCULUS_MARKDOWN = """# Derivatives

The derivative measures how fast a function changes at a point. Geometrically it is the
slope of the tangent line to the graph of the function at that point, and physically it is
an instantaneous rate such as speed.

## Chain rule

The chain rule differentiates a composition of functions by multiplying derivatives: the
derivative of the outer function, taken at the inner function, times the derivative of the
inner function. It is the rule used most often in practice.

## Integrals

An integral accumulates area under a curve. The fundamental theorem of calculus says that
integration and differentiation undo each other, which is why antiderivatives compute areas.
"""

# Two sections, each long enough to be a passage of its own, cited by section.
NUMBERS_MARKDOWN = """# Factors

A factor of a whole number divides it without remainder: the factors of twelve are one, two,
three, four, six and twelve. Every whole number greater than one has at least two factors,
itself and one, and factors come in pairs whose product is the number.

# Primes

A prime number has exactly two factors, one and itself. Two, three, five and seven are the
first primes; every whole number greater than one is a product of primes in exactly one way,
which is the fundamental theorem of arithmetic.
"""


async def wait_ready(api, document_id: str, timeout: float = 60, vectors: bool = True) -> dict:
    """Wait until the document is indexed (or failed) and, with `vectors`, its vector step is
    done too: nothing of it is pushed to the user's connections after that, so a test's next
    frame is the one it waits for."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        document = await api(f"documents/{document_id}")
        if document["status"] == "failed" or (
            document["status"] == "ready" and not (vectors and document["vectors"] == "pending")
        ):
            return document
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(document)
        await asyncio.sleep(0.1)


async def add(api, path: str, vectors: bool = True) -> dict:
    document = await api("documents", method="POST", body={"path": path})
    return await wait_ready(api, document["id"], vectors=vectors)
