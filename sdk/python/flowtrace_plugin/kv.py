"""A per-plugin key-value store (``flowtrace:plugin/kv``). Needs ``storage = true`` under
``[capabilities]`` in flowtrace.toml: without it, importing this module fails the build
with :class:`~flowtrace_plugin.errors.CapabilityNotDeclared`.

Values are bytes (a ``str`` is stored as its UTF-8 encoding); the host keeps a quota per
plugin. Each call runs in a fresh instance of the plugin, so this store is the only state
that outlives a call::

    from flowtrace_plugin import kv

    runs = int(kv.get("runs") or b"0") + 1
    kv.set("runs", str(runs))

In a unit test, :func:`flowtrace_plugin.testing.host` gives an in-memory store.
"""

from __future__ import annotations

from . import _host
from .errors import Unavailable

__all__ = ["delete", "get", "keys", "set"]

_host.check_capability("kv", "storage", "kv")


def get(key: str) -> bytes | None:
    """The value under ``key``, if any.

    >>> from flowtrace_plugin import testing
    >>> with testing.host(kv={"baseline": b"0.82"}):
    ...     get("baseline"), get("missing")
    (b'0.82', None)
    """
    return _host.backend("flowtrace_plugin.kv.get").kv_get(key)


def set(key: str, value: bytes | str) -> None:
    """Store ``value`` under ``key``, replacing what was there. Raises
    :class:`~flowtrace_plugin.Unavailable` when the store's quota would be exceeded.

    >>> from flowtrace_plugin import testing
    >>> with testing.host() as host:
    ...     set("baseline", "0.82")
    >>> host.kv
    {'baseline': b'0.82'}
    """
    data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    problem = _host.backend("flowtrace_plugin.kv.set").kv_set(key, data)
    if problem is not None:
        raise Unavailable(f"cannot store `{key}`: {problem}")


def delete(key: str) -> None:
    """Remove ``key``; removing a missing key is not an error.

    >>> from flowtrace_plugin import testing
    >>> with testing.host(kv={"baseline": b"1"}) as host:
    ...     delete("baseline"); delete("never-set")
    >>> host.kv
    {}
    """
    _host.backend("flowtrace_plugin.kv.delete").kv_delete(key)


def keys(prefix: str = "") -> list[str]:
    """The keys starting with ``prefix``, sorted.

    >>> from flowtrace_plugin import testing
    >>> with testing.host(kv={"seen/b": b"", "seen/a": b"", "other": b""}):
    ...     keys("seen/")
    ['seen/a', 'seen/b']
    """
    return _host.backend("flowtrace_plugin.kv.keys").kv_keys(prefix)
