"""The plugin log (``flowtrace:plugin/log``), always available. The host shows each line
with the plugin's id; ``cargo flowtrace test`` prints a case's log when the case fails.

``print()`` and anything written to ``sys.stdout`` or ``sys.stderr`` (``logging``'s default
handler, tracebacks) end up in the plugin log too, as ``info`` and ``warn`` lines; the SDK
flushes both streams when each call returns. These functions add the level::

    from flowtrace_plugin import log

    log.info(f"checked {checked} spans")
    if flagged:
        log.warning(f"{flagged} of {checked} spans flagged")

Inside a component these call the host; in a unit test, :func:`flowtrace_plugin.testing.host`
collects the lines.
"""

from __future__ import annotations

import enum

from . import _host

__all__ = ["Level", "debug", "error", "info", "log", "trace", "warning"]


class Level(enum.IntEnum):
    """How important a log line is; ordered.

    >>> Level.WARN > Level.INFO
    True
    """

    TRACE = 0
    """Very detailed tracing."""
    DEBUG = 1
    """Debugging detail."""
    INFO = 2
    """Normal progress."""
    WARN = 3
    """Something looks wrong, work goes on."""
    ERROR = 4
    """Something failed."""


def log(level: Level, message: str) -> None:
    """Write one line at ``level``; the other functions call this.

    >>> from flowtrace_plugin import testing
    >>> with testing.host() as host:
    ...     log(Level.INFO, "starting")
    >>> host.logs
    [('info', 'starting')]
    """
    _host.backend("flowtrace_plugin.log.log").log(level.name, str(message))


def trace(message: str) -> None:
    """Log at :attr:`Level.TRACE`.

    >>> from flowtrace_plugin import testing
    >>> with testing.host():
    ...     trace("span 3 read")
    """
    log(Level.TRACE, message)


def debug(message: str) -> None:
    """Log at :attr:`Level.DEBUG`.

    >>> from flowtrace_plugin import testing
    >>> with testing.host():
    ...     debug("config: threshold = 0.7")
    """
    log(Level.DEBUG, message)


def info(message: str) -> None:
    """Log at :attr:`Level.INFO`.

    >>> from flowtrace_plugin import testing
    >>> with testing.host():
    ...     info("evaluated 12 spans")
    """
    log(Level.INFO, message)


def warning(message: str) -> None:
    """Log at :attr:`Level.WARN`.

    >>> from flowtrace_plugin import testing
    >>> with testing.host():
    ...     warning("span 00f067aa0ba902b7 has no end time")
    """
    log(Level.WARN, message)


def error(message: str) -> None:
    """Log at :attr:`Level.ERROR`.

    >>> from flowtrace_plugin import testing
    >>> with testing.host():
    ...     error("cannot parse the output of span 4")
    """
    log(Level.ERROR, message)
