"""The dev-mode engine: an interpreter component built once, which loads the plugin's own
sources when it is first called. Not public API.

``cargo flowtrace test`` (without ``--release``) builds, once per componentize-py version,
SDK, plugin kind and world, a component from the entry module::

    import flowtrace_plugin._dev as _dev
    _dev.prepare("evaluator")
    Evaluator = _dev.Evaluator

:func:`prepare` runs while componentize-py builds it: it imports the standard library (a
component only has the modules imported while it was built) and what every call needs. At
run time the test harness preopens the plugin's directory, read-only, at :data:`MOUNT`, and
the first call of each instance imports the plugin from there (:func:`ensure_loaded`), as
the release build imports it while it is built. A failed import fails every call with
:class:`LoadFailed`, whose message starts with :data:`LOAD_FAILED` and holds the
traceback, for the harness to show as the build shows its own.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys
import traceback
from typing import Any

from . import _entry
from .errors import PluginError

MOUNT = "/flowtrace-dev"
"""Where the harness preopens the plugin's directory (``flowtrace_plugins::DEV_SOURCES``)."""

CONFIG = "target/flowtrace/python/dev/dev.json"
"""What to load, under :data:`MOUNT`: ``{"module": "app", "path": [".", ...]}``, the entry
module and the directories (relative to the plugin's) to put on the module path."""

LOAD_FAILED = "\x1eflowtrace-dev-load-failed\n"
"""What the message of a call that failed to import the plugin starts with."""

_SKIP = frozenset(
    {
        "__main__",
        "__hello__",
        "__phello__",
        "_pyrepl",
        "antigravity",
        "this",
        "idlelib",
        "tkinter",
        "turtle",
        "turtledemo",
        "ensurepip",
        "venv",
        "test",
        "lib2to3",
        "pydoc",
        "pydoc_data",
        "curses",
        "readline",
        "dbm",
        "sqlite3",
        "multiprocessing",
        "concurrent",
        "asyncio",
    }
)
"""Standard modules not preloaded: interactive, GUI, test, or of no use in a component."""

_kind: str | None = None
_failed: str | None = None


class LoadFailed(PluginError):
    """The plugin's sources failed to import (a syntax error, a missing module, an exception
    at import time, or a check of :func:`flowtrace_plugin._entry.load`)."""

    def __init__(self, text: str) -> None:
        super().__init__(LOAD_FAILED + text)


def prepare(kind: str) -> None:
    """At build time: import the standard library and what every call of ``kind`` needs."""
    global _kind
    _kind = kind
    _preload_stdlib()
    _entry._preload(kind)


def _preload_stdlib() -> None:
    for name in sorted(sys.stdlib_module_names):
        if name in _SKIP or name.startswith("_"):
            continue
        module = _try_import(name)
        path = getattr(module, "__path__", None)
        if not path:
            continue
        for info in pkgutil.walk_packages(path, f"{name}.", onerror=lambda _name: None):
            parts = info.name.split(".")
            if any(p in _SKIP or p.startswith("test") for p in parts[1:]):
                continue
            _try_import(info.name)


def _try_import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except BaseException:  # noqa: BLE001 - a module WASI lacks (ssl, fcntl) is left out
        return None


def ensure_loaded() -> None:
    """Import the plugin from :data:`MOUNT`, once per instance; raises :class:`LoadFailed`
    when that fails (and again at every later call)."""
    global _failed
    if _entry._plugin_class is not None:
        return
    if _failed is not None:
        raise LoadFailed(_failed)
    if _kind is None:
        raise LoadFailed("the dev engine was built without `_dev.prepare`\n")
    try:
        with open(os.path.join(MOUNT, CONFIG), encoding="utf-8") as file:
            config = json.load(file)
        for directory in reversed(config["path"]):
            sys.path.insert(0, os.path.normpath(os.path.join(MOUNT, directory)))
        _entry.load(config["module"], _kind)
    except BaseException as err:  # noqa: BLE001 - every failure is the plugin's to read
        _failed = _traceback(err)
        raise LoadFailed(_failed) from None


def _traceback(err: BaseException) -> str:
    """The traceback of ``err``, of the plugin's own frames only (the SDK's and importlib's
    are not the author's code)."""
    frames = traceback.extract_tb(err.__traceback__)
    own = [f for f in frames if f.filename.startswith(MOUNT + "/")]
    lines = []
    if own:
        lines.append("Traceback (most recent call last):\n")
        lines += traceback.format_list(own)
    # else the error is not in a frame of the plugin's (a syntax error names its place
    # itself, a check of `_entry.load` names the file).
    lines += traceback.format_exception_only(type(err), err)
    return "".join(lines)


def __getattr__(name: str) -> Any:
    """The adapter of a kind, by the name of its base class, as in ``_entry``."""
    return _entry.__getattr__(name)
