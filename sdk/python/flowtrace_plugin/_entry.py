"""The bridge between componentize-py and the plugin. Not public API.

``cargo flowtrace build`` generates the component's entry module,
``_flowtrace_entry.py``::

    import flowtrace_plugin._entry as _entry
    _entry.load("app", "evaluator")
    Evaluator = _entry.Evaluator

componentize-py imports it while building (pre-initialisation), so :func:`load` runs then:
it imports the plugin's module, finds the class decorated with ``@export``, checks its
kind, and imports the bindings the kind needs, so a mistake fails the build and the
imports are part of the component's initial state. At run time componentize-py calls the
adapter class named after the kind (``Evaluator``, ``Exporter``, ``Embedder``,
``Transformer``: this module's attributes of those names are the adapters of
``_kinds/<kind>.py``), which converts between the SDK's types and the generated ones
(``wit_world``), and turns exceptions into the contract's ``plugin-error``.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from . import _host, _kinds
from ._plugin import KINDS, exported, kind_of
from .errors import BuildError

_ADAPTERS: dict[str, type] = {kind.base.__name__: kind.adapter for kind in _kinds.ALL}
"""Each kind's adapter, under the name of its base class (the name componentize-py wants)."""

__all__ = ["load", *_ADAPTERS]

_plugin_class: type | None = None
_user_dir: str | None = None


def load(module: str, kind: str) -> None:
    """Import the plugin's ``module`` and check that it exports exactly one plugin class,
    of ``kind``; raises :class:`~flowtrace_plugin.errors.BuildError` otherwise."""
    global _plugin_class, _user_dir
    if kind not in KINDS:
        raise BuildError(f"unknown plugin kind `{kind}`: expected one of {', '.join(KINDS)}")
    shown = module.replace(".", "/") + ".py"
    _host.importing = shown
    try:
        user_module = importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name == module.split(".")[0]:
            raise BuildError(
                f"no module `{module}`: the plugin's code goes in `{shown}` next to "
                "flowtrace.toml, or in the file `entry` names under `[build]`"
            ) from None
        raise
    finally:
        _host.importing = None
    file = getattr(user_module, "__file__", None)
    if file:
        path = os.path.abspath(file)
        if os.path.basename(path) == "__init__.py":
            # A package: the plugin's code is the package and what sits beside it.
            _user_dir = os.path.dirname(os.path.dirname(path))
            shown = f"{module.replace('.', '/')}/__init__.py"
        else:
            _user_dir = os.path.dirname(path)
            shown = os.path.basename(path)
    classes = exported()
    if not classes:
        raise BuildError(_no_plugin_message(user_module, shown, kind))
    if len(classes) > 1:
        names = ", ".join(f"`{_qualified(c)}`" for c in classes)
        raise BuildError(
            f"several classes are decorated with `@export` ({names}): a plugin exports one class"
        )
    cls = classes[0]
    actual = kind_of(cls)[0]
    if actual != kind:
        base = KINDS[kind].__name__
        raise BuildError(
            f"`{_qualified(cls)}` is {_article(actual)} {actual}, but flowtrace.toml says "
            f'`kind = "{kind}"`: derive it from `flowtrace_plugin.{base}`, or change `kind`'
        )
    _plugin_class = cls
    _preload(kind)


def _no_plugin_message(module: Any, shown: str, kind: str) -> str:
    base = KINDS[kind]
    candidates = [
        name
        for name, value in vars(module).items()
        if isinstance(value, type)
        and issubclass(value, base)
        and value is not base
        and value.__module__ == module.__name__
    ]
    if candidates:
        return (
            f"`{shown}` defines `{candidates[0]}` but does not export it: decorate it with "
            "`@flowtrace_plugin.export`"
        )
    return (
        f"`{shown}` exports no plugin: define a class deriving from "
        f"`flowtrace_plugin.{base.__name__}` and decorate it with `@flowtrace_plugin.export`"
    )


def _article(kind: str) -> str:
    return "an" if kind[0] in "aeiou" else "a"


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _preload(kind: str) -> None:
    """Import what every call needs now, at build time, so that it is in the component's
    initial state instead of being imported again in each fresh instance."""
    for name in ("componentize_py_types", "types", "log", "config"):
        _host.wit(name)
    importlib.import_module(f"wit_world.exports.{kind}")
    _host.preload_capability_modules()
    if _host.CapabilityFinder not in sys.meta_path:
        sys.meta_path.append(_host.CapabilityFinder)
    _host.backend("flowtrace_plugin._entry.load")
    from . import _convert  # noqa: F401 - imported for its side effect on sys.modules


def __getattr__(name: str) -> Any:
    """The adapter of a kind, by the name of its base class: ``_entry.Evaluator``, ..."""
    try:
        return _ADAPTERS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
