"""What the adapters of every kind share. Not public API.

Each kind's module (``_kinds/<kind>.py``) holds its base class, which plugins derive from,
and its adapter, the class componentize-py calls (see :mod:`flowtrace_plugin._entry`):
the adapter converts between the SDK's types and the generated ones (``wit_world``) and
turns exceptions into the contract's ``plugin-error`` with the helpers here.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .. import _host
from .._trace import Trace
from ..errors import BuildError

_T = TypeVar("_T")


@dataclass(frozen=True)
class Kind:
    """A plugin kind: its name (``kind`` in flowtrace.toml, and its interface in the
    contract), the base class plugins derive from, and the adapter componentize-py calls,
    which the entry module exposes under the base class's name."""

    name: str
    base: type
    adapter: type


def instance() -> Any:
    """A fresh instance of the plugin class :func:`flowtrace_plugin._entry.load` found."""
    from .. import _entry

    if _entry._plugin_class is None:
        # A dev engine (`_dev`, imported only when one is built) loads the plugin now.
        dev = sys.modules.get("flowtrace_plugin._dev")
        if dev is not None and dev._kind is not None:
            dev.ensure_loaded()
    if _entry._plugin_class is None:
        raise BuildError("`flowtrace_plugin._entry.load` was not called before the first call")
    return _entry._plugin_class()


def flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


def error(err: BaseException) -> Any:
    """The ``Err`` to raise for ``err``, after reporting it to the host (:func:`report`)
    when it is not one of the plugin's own :class:`~flowtrace_plugin.PluginError`."""
    from .. import _entry
    from .._convert import ConversionError, plugin_error_to
    from ..errors import PluginError

    err_type = _host.wit("componentize_py_types").Err
    if isinstance(err, err_type):
        return err
    wire = plugin_error_to(err, _entry._user_dir)
    if not isinstance(err, (PluginError, ConversionError)):
        report(err, wire.value)
    return err_type(wire)


REPORT_MARKER = "\x1eflowtrace-failure "
"""What the log line that reports an exception to the host starts with; the host keeps the
report with the call's error instead of logging it (``flowtrace_plugins::failure``)."""


def report(err: BaseException, summary: str) -> None:
    """Tell the host about an exception the plugin did not catch: its type, message,
    innermost place in the plugin's own code and its traceback (the plugin's frames, paths
    relative to the plugin's directory), paired with the ``failed`` message ``summary``."""
    from .. import _entry
    from .._convert import failure_report

    text = json.dumps(failure_report(err, summary, _entry._user_dir), ensure_ascii=False)
    log_error(REPORT_MARKER + text)


def log_error(text: str) -> None:
    try:
        _host.backend("flowtrace_plugin._entry").log("ERROR", text)
    except Exception:
        pass


def traces(raw: list[Any]) -> list[Trace]:
    from .._convert import HostSource

    return [Trace(HostSource(trace)) for trace in raw]


def fallible(call: Callable[[Any], _T]) -> _T:
    """``call`` on a fresh plugin instance, for a function whose result is a ``result``:
    what it raises becomes the contract's error (:func:`error`)."""
    try:
        return call(instance())
    except Exception as err:
        raise error(err) from None
    finally:
        flush()


def infallible(call: Callable[[Any], _T]) -> _T:
    """``call`` on a fresh plugin instance, for a function the contract gives no way to
    fail: what it raises is reported to the host (:func:`report`), and traps the
    component."""
    try:
        return call(instance())
    except Exception as err:
        from .. import _entry
        from .._convert import describe

        report(err, describe(err, _entry._user_dir))
        raise
    finally:
        flush()
