""":func:`export`, which makes a class the plugin.

A plugin is a class deriving from its kind's base (:class:`~flowtrace_plugin.Evaluator`,
:class:`~flowtrace_plugin.Exporter`, :class:`~flowtrace_plugin.Embedder`,
:class:`~flowtrace_plugin.Transformer`: one module of ``_kinds`` each), decorated with
``@export``, in the module the build imports (``app.py``). Each call from the host runs in a fresh instance of the
component: the class is instantiated (without arguments) for the call, and nothing a
method stores on ``self`` or in a global survives to the next call (use
:mod:`flowtrace_plugin.kv` for that).
"""

from __future__ import annotations

import inspect
from typing import TypeVar

from . import _kinds
from .errors import BuildError

__all__ = ["export"]


KINDS: dict[str, type] = {kind.name: kind.base for kind in _kinds.ALL}
"""Each plugin kind (as ``kind`` in flowtrace.toml says it) and its base class."""

_exported: list[type] = []

_C = TypeVar("_C", bound=type)


def kind_of(cls: type) -> list[str]:
    """The kinds whose base ``cls`` derives from.

    >>> from flowtrace_plugin import Evaluator
    >>> kind_of(Evaluator)
    ['evaluator']
    """
    return [kind for kind, base in KINDS.items() if issubclass(cls, base)]


def exported() -> list[type]:
    """The classes decorated with :func:`export` so far, in order."""
    return list(_exported)


def export(cls: _C) -> _C:
    """Make ``cls`` the plugin: the class the component's exports call. Use it once per
    plugin, on a class deriving from the base class of its kind
    (:class:`~flowtrace_plugin.Evaluator`, :class:`~flowtrace_plugin.Exporter`, ...,
    matching ``kind`` in flowtrace.toml) that implements its abstract methods and can be
    instantiated without arguments.

    Mistakes raise :class:`~flowtrace_plugin.errors.BuildError` when the module is
    imported, which fails ``cargo flowtrace build`` with the message.

    >>> from flowtrace_plugin import EvalResult, Evaluator, Trace
    >>> @export
    ... class HasSpans(Evaluator):
    ...     def evaluate(self, trace: Trace) -> EvalResult:
    ...         return EvalResult(1.0, trace.span_count > 0)
    >>> @export
    ... class Unfinished(Evaluator):
    ...     pass
    Traceback (most recent call last):
    ...
    flowtrace_plugin.errors.BuildError: `Unfinished` does not implement `evaluate` of `flowtrace_plugin.Evaluator`
    """
    if not inspect.isclass(cls):
        raise BuildError(
            f"`@export` decorates a class deriving from {_bases()}, "
            f"not {type(cls).__name__} `{cls!r}`"
        )
    name = cls.__qualname__
    kinds = kind_of(cls)
    if not kinds:
        raise BuildError(f"`{name}` is not a plugin class: derive it from {_bases()}")
    if len(kinds) > 1:
        bases = " and ".join(f"`flowtrace_plugin.{KINDS[k].__name__}`" for k in kinds)
        raise BuildError(f"`{name}` derives from {bases}: a plugin has one kind")
    missing = sorted(getattr(cls, "__abstractmethods__", ()))
    if missing:
        listed = ", ".join(f"`{m}`" for m in missing)
        raise BuildError(
            f"`{name}` does not implement {listed} of `flowtrace_plugin.{KINDS[kinds[0]].__name__}`"
        )
    if cls not in _exported:
        _exported.append(cls)
    return cls


def _bases() -> str:
    """The kinds' base classes, for messages: `flowtrace_plugin.Evaluator`, `Exporter`,
    ... or `Transformer`."""
    names = [f"`{base.__name__}`" for base in KINDS.values()]
    names[0] = f"`flowtrace_plugin.{names[0][1:]}"
    return ", ".join(names[:-1]) + " or " + names[-1]
