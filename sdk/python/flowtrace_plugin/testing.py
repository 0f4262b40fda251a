"""Run a plugin's code in a plain Python interpreter, for unit tests: an in-memory stand-in
for the host behind :mod:`~flowtrace_plugin.config`, :mod:`~flowtrace_plugin.log`,
:mod:`~flowtrace_plugin.kv`, :mod:`~flowtrace_plugin.traces` and
:mod:`~flowtrace_plugin.embeddings`, and traces built with
:meth:`Trace.from_data <flowtrace_plugin.Trace.from_data>`::

    import unittest
    from flowtrace_plugin import Span, SpanKind, SpanStatus, Trace, TraceData, testing
    from app import Plugin

    class PluginTest(unittest.TestCase):
        def test_a_failed_tool_is_flagged(self):
            trace = Trace.from_data(TraceData(id="t", spans=[
                Span("01", "execute_tool search", SpanKind.TOOL_CALL, status=SpanStatus.ERROR),
            ]))
            with testing.host(config={"max-span-ms": 30000}) as host:
                result = Plugin().evaluate(trace)
            self.assertFalse(result.passed)

It checks nothing the real host checks (declared config keys and types, capabilities,
limits): ``cargo flowtrace test`` runs the built component under the real host, with the
fixtures in ``tests/``.
"""

from __future__ import annotations

import copy
import hashlib
import math
import struct
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from . import _host
from ._data import Span, TraceData
from ._trace import Trace
from .config import ConfigValue
from .errors import Failed, Unavailable

__all__ = ["TestHost", "host"]


class TestHost:
    """The stand-in host :func:`host` installs; inspect what the code did through its
    attributes.

    >>> with host(config={"threshold": 0.5}) as h:
    ...     from flowtrace_plugin import log
    ...     log.warning("close to the threshold")
    >>> h.logs
    [('warn', 'close to the threshold')]
    """

    __test__ = False  # not a test case, whatever its name says

    def __init__(
        self,
        config: Mapping[str, ConfigValue] | None = None,
        kv: Mapping[str, bytes] | None = None,
        traces: Sequence[TraceData] | None = None,
        embedding_dimension: int | None = None,
        embeddings: Mapping[str, Sequence[float]] | None = None,
    ) -> None:
        """A stand-in with these contents; see :func:`host`."""
        self.config: dict[str, ConfigValue] = dict(config or {})
        """The ``[config]`` values (key to value); a key absent here has no value."""
        self.kv: dict[str, bytes] = dict(kv or {})
        """The key-value store's contents."""
        self.kv_quota: int | None = None
        """When set, a ``kv.set`` that would make the store's keys and values larger than
        this many bytes fails as the host's quota does."""
        self.traces: list[TraceData] = list(traces or [])
        """The traces ``traces.get`` and ``traces.query`` see."""
        self.embedding_vectors: dict[str, list[float]] | None = (
            None if embeddings is None else {k: list(v) for k, v in embeddings.items()}
        )
        """Exact vectors per text; a text not listed fails. ``None``: hash-based vectors."""
        self.embedding_dimension: int | None = embedding_dimension
        """The dimension of the hash-based vectors."""
        self.logs: list[tuple[str, str]] = []
        """Every line logged, as ``(level, message)``; levels are ``trace``, ``debug``,
        ``info``, ``warn``, ``error``."""

    def log(self, level: str, message: str) -> None:
        """Record a log line (what :mod:`flowtrace_plugin.log` calls).

        >>> h = TestHost(); h.log("INFO", "hi"); h.logs
        [('info', 'hi')]
        """
        self.logs.append((level.lower(), message))

    def config_get(self, key: str) -> ConfigValue | None:
        """A copy of the value of ``key`` (what :func:`flowtrace_plugin.config.get` calls).

        >>> TestHost(config={"n": 3}).config_get("n")
        3
        """
        return copy.deepcopy(self.config.get(key))

    def config_keys(self) -> list[str]:
        """The config keys (what :func:`flowtrace_plugin.config.keys` calls).

        >>> TestHost(config={"n": 3}).config_keys()
        ['n']
        """
        return list(self.config)

    def kv_get(self, key: str) -> bytes | None:
        """The value under ``key`` (what :func:`flowtrace_plugin.kv.get` calls).

        >>> TestHost(kv={"a": b"1"}).kv_get("a")
        b'1'
        """
        return self.kv.get(key)

    def kv_set(self, key: str, value: bytes) -> str | None:
        """Store ``value``, or say why not (what :func:`flowtrace_plugin.kv.set` calls).

        >>> h = TestHost(); h.kv_quota = 2; h.kv_set("key", b"value")
        "the store's quota of 2 bytes would be exceeded"
        """
        if self.kv_quota is not None:
            others = sum(len(k) + len(v) for k, v in self.kv.items() if k != key)
            if others + len(key) + len(value) > self.kv_quota:
                return f"the store's quota of {self.kv_quota} bytes would be exceeded"
        self.kv[key] = bytes(value)
        return None

    def kv_delete(self, key: str) -> None:
        """Remove ``key`` (what :func:`flowtrace_plugin.kv.delete` calls).

        >>> h = TestHost(kv={"a": b"1"}); h.kv_delete("a"); h.kv
        {}
        """
        self.kv.pop(key, None)

    def kv_keys(self, prefix: str) -> list[str]:
        """The keys starting with ``prefix``, sorted (what :func:`flowtrace_plugin.kv.keys`
        calls).

        >>> TestHost(kv={"b": b"", "a": b""}).kv_keys("")
        ['a', 'b']
        """
        return sorted(k for k in self.kv if k.startswith(prefix))

    def traces_get(self, trace_id: str) -> Trace | None:
        """The trace ``trace_id`` (what :func:`flowtrace_plugin.traces.get` calls).

        >>> TestHost(traces=[TraceData(id="t")]).traces_get("t").id
        't'
        """
        for data in self.traces:
            if data.id == trace_id:
                return Trace.from_data(data)
        return None

    def traces_query(
        self, name_contains: str | None, since_ns: int | None, until_ns: int | None, limit: int
    ) -> list[str]:
        """The ids of the matching traces, newest first (what
        :func:`flowtrace_plugin.traces.query` calls).

        >>> TestHost(traces=[TraceData(id="t")]).traces_query(None, None, None, 10)
        ['t']
        """
        found: list[tuple[int, str]] = []
        for data in self.traces:
            root = _root(data)
            name = "" if root is None else root.name
            start = 0 if root is None else root.start_time_ns
            if name_contains is not None and name_contains not in name:
                continue
            if since_ns is not None and start < since_ns:
                continue
            if until_ns is not None and start >= until_ns:
                continue
            found.append((start, data.id))
        found.sort(key=lambda item: item[0], reverse=True)
        return [trace_id for _, trace_id in found[: max(0, limit)]]

    def embeddings_dimension(self) -> int:
        """The dimension of the vectors (what :func:`flowtrace_plugin.embeddings.dimension`
        calls).

        >>> TestHost(embedding_dimension=8).embeddings_dimension()
        8
        """
        if self.embedding_vectors:
            return len(next(iter(self.embedding_vectors.values())))
        if self.embedding_dimension is None:
            raise Unavailable(
                "no embedding service: pass `embedding_dimension` or `embeddings` to "
                "`flowtrace_plugin.testing.host`"
            )
        return self.embedding_dimension

    def embeddings_embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text (what :func:`flowtrace_plugin.embeddings.embed` calls).

        >>> TestHost(embeddings={"a": [1.0]}).embeddings_embed(["a"])
        [[1.0]]
        """
        if self.embedding_vectors is not None:
            missing = [t for t in texts if t not in self.embedding_vectors]
            if missing:
                raise Failed(f"no vector for the text {missing[0]!r} in the test's `embeddings`")
            return [list(self.embedding_vectors[t]) for t in texts]
        dimension = self.embeddings_dimension()
        return [_hash_vector(text, dimension) for text in texts]


@contextmanager
def host(
    config: Mapping[str, ConfigValue] | None = None,
    *,
    kv: Mapping[str, bytes] | None = None,
    traces: Sequence[TraceData] | None = None,
    embedding_dimension: int | None = None,
    embeddings: Mapping[str, Sequence[float]] | None = None,
) -> Iterator[TestHost]:
    """Within the ``with`` block, the SDK's host functions use an in-memory
    :class:`TestHost` instead of the Flowtrace host: ``config`` holds the ``[config]``
    values, ``kv`` the store, ``traces`` the traces ``traces.get`` and ``traces.query``
    see; embeddings are exact (``embeddings``, text to vector) or hash-based unit vectors of
    ``embedding_dimension`` numbers.

    >>> from flowtrace_plugin import config, kv
    >>> with host(config={"threshold": 0.7}, kv={"runs": b"1"}) as h:
    ...     kv.set("runs", str(int(kv.get("runs")) + 1))
    ...     config.require("threshold", float)
    0.7
    >>> h.kv["runs"]
    b'2'
    """
    stand_in = TestHost(config, kv, traces, embedding_dimension, embeddings)
    previous = _host.set_stand_in(stand_in)
    try:
        yield stand_in
    finally:
        _host.set_stand_in(previous)


def _root(data: TraceData) -> Span | None:
    ids = {span.id for span in data.spans}
    for span in data.spans:
        if span.parent_id is None or span.parent_id not in ids:
            return span
    return None


def _hash_vector(text: str, dimension: int) -> list[float]:
    """A stable unit vector for ``text``: SHA-256 in counter mode, as floats in [-1, 1),
    normalised."""
    values: list[float] = []
    counter = 0
    while len(values) < dimension:
        block = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        values.extend(n / 2**31 for n in struct.unpack("<8i", block))
        counter += 1
    vector = values[:dimension]
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm else vector
