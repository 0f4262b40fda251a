"""Read other recorded traces (``flowtrace:plugin/traces``). Needs ``traces = true`` under
``[capabilities]`` in flowtrace.toml: without it, importing this module fails the build
with :class:`~flowtrace_plugin.errors.CapabilityNotDeclared`.

::

    from flowtrace_plugin import traces

    # compare against the five latest runs of the same agent
    for trace_id in traces.query(name_contains="agent run", limit=5):
        previous = traces.get(trace_id)
        if previous is not None:
            with previous:
                ...

In a unit test, :func:`flowtrace_plugin.testing.host` serves traces from memory.
"""

from __future__ import annotations

from . import _host
from ._trace import Trace

__all__ = ["get", "query"]

_host.check_capability("traces", "traces", "traces")


def get(trace_id: str) -> Trace | None:
    """The trace with id ``trace_id``, if the host has it. It stays valid after the call
    returns; ``with`` (or :meth:`Trace.close <flowtrace_plugin.Trace.close>`) gives it back
    to the host early.

    >>> from flowtrace_plugin import TraceData, testing
    >>> with testing.host(traces=[TraceData(id="t1")]):
    ...     get("t1").id, get("t2")
    ('t1', None)
    """
    return _host.backend("flowtrace_plugin.traces.get").traces_get(trace_id)


def query(
    *,
    name_contains: str | None = None,
    since_ns: int | None = None,
    until_ns: int | None = None,
    limit: int = 100,
) -> list[str]:
    """Ids of the traces matching every condition given, newest first: the root span's
    name contains ``name_contains``; the trace started at or after ``since_ns`` and before
    ``until_ns`` (nanoseconds since the Unix epoch); at most ``limit`` ids (the host caps it
    too).

    >>> from flowtrace_plugin import Span, TraceData, testing
    >>> runs = [TraceData(id=f"t{i}", spans=[Span("01", "agent run", start_time_ns=i)]) for i in range(3)]
    >>> with testing.host(traces=runs):
    ...     query(name_contains="agent", limit=2)
    ['t2', 't1']
    """
    return _host.backend("flowtrace_plugin.traces.query").traces_query(
        name_contains, since_ns, until_ns, limit
    )
