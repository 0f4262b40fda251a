"""A Flowtrace embedder: a deterministic hashing embedder. Each word (lowercased, split on
anything not alphanumeric) is hashed into one of 64 dimensions with a sign, and the vector
is L2-normalised, so texts sharing words have a high cosine similarity. No model, no
network: a baseline, and a starting point for a real embedder.
"""

from __future__ import annotations

import math

from flowtrace_plugin import Embedder, export

DIMENSION = 64


@export
class Plugin(Embedder):
    def dimension(self) -> int:
        return DIMENSION

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [embed_text(text) for text in texts]


def embed_text(text: str) -> list[float]:
    """The unit vector of `text` (all zeros for a text without words).

    >>> v = embed_text("The refund was approved")
    >>> len(v), round(sum(x * x for x in v), 6)
    (64, 1.0)
    >>> embed_text(" ... ") == [0.0] * 64
    True
    """
    vector = [0.0] * DIMENSION
    words = "".join(c if c.isalnum() else " " for c in text).split()
    for word in words:
        digest = fnv1a(word.lower().encode("utf-8"))
        sign = 1.0 if digest >> 63 == 0 else -1.0
        vector[digest % DIMENSION] += sign
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm > 0 else vector


def fnv1a(data: bytes) -> int:
    """64-bit FNV-1a: stable across platforms and releases, unlike Python's `hash`.

    >>> hex(fnv1a(b"a"))
    '0xaf63dc4c8601ec8c'
    """
    value = 0xCBF29CE484222325
    for byte in data:
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value
