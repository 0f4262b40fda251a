"""Text embeddings served by the host, usually by an installed embedder plugin
(``flowtrace:plugin/embeddings``). Needs ``embeddings = true`` under ``[capabilities]`` in
flowtrace.toml: without it, importing this module fails the build with
:class:`~flowtrace_plugin.errors.CapabilityNotDeclared`.

::

    from flowtrace_plugin import embeddings

    def similarity(a: str, b: str) -> float:
        va, vb = embeddings.embed([a, b])
        return sum(x * y for x, y in zip(va, vb))

Errors of the embedding service arrive as :class:`~flowtrace_plugin.PluginError`
subclasses (usually :class:`~flowtrace_plugin.Unavailable`). In a unit test,
:func:`flowtrace_plugin.testing.host` gives a deterministic stand-in.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import _host
from .errors import Failed

__all__ = ["dimension", "embed", "embed_one"]

_host.check_capability("embeddings", "embeddings", "embeddings")


def dimension() -> int:
    """The dimension of the vectors :func:`embed` returns.

    >>> from flowtrace_plugin import testing
    >>> with testing.host(embedding_dimension=8):
    ...     dimension()
    8
    """
    return _host.backend("flowtrace_plugin.embeddings.dimension").embeddings_dimension()


def embed(texts: Sequence[str]) -> list[list[float]]:
    """One vector per text, in order.

    >>> from flowtrace_plugin import testing
    >>> with testing.host(embedding_dimension=4):
    ...     vectors = embed(["refund policy", "return window"])
    >>> len(vectors), len(vectors[0])
    (2, 4)
    """
    if isinstance(texts, str):
        raise TypeError("`embed` takes a list of texts; for one text, use `embed_one`")
    return _host.backend("flowtrace_plugin.embeddings.embed").embeddings_embed(list(texts))


def embed_one(text: str) -> list[float]:
    """The vector of one text.

    >>> from flowtrace_plugin import testing
    >>> with testing.host(embedding_dimension=3):
    ...     len(embed_one("where is my order?"))
    3
    """
    vectors = embed([text])
    if not vectors:
        raise Failed("the embedding service returned no vector")
    return vectors[0]
