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
adapter class named after the kind (:class:`Evaluator`, :class:`Exporter`,
:class:`Embedder`, :class:`Transformer`), which converts between the SDK's types and the
generated ones (``wit_world``), and turns exceptions into the contract's ``plugin-error``.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from typing import Any

from . import _host
from ._plugin import KINDS, exported, kind_of
from ._trace import Trace
from .errors import BuildError

__all__ = ["Embedder", "Evaluator", "Exporter", "Transformer", "load"]

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
    _host.backend("flowtrace_plugin._entry.load")
    from . import _convert  # noqa: F401 - imported for its side effect on sys.modules


def _instance() -> Any:
    if _plugin_class is None:
        raise BuildError("`flowtrace_plugin._entry.load` was not called before the first call")
    return _plugin_class()


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


def _error(err: BaseException) -> Any:
    """The ``Err`` to raise for ``err``, after logging its traceback when it is not one of
    the plugin's own :class:`~flowtrace_plugin.PluginError`."""
    from ._convert import ConversionError, plugin_error_to
    from .errors import PluginError

    err_type = _host.wit("componentize_py_types").Err
    if isinstance(err, err_type):
        return err
    if not isinstance(err, (PluginError, ConversionError)):
        lines = traceback.format_exception(type(err), err, err.__traceback__)
        _log_error("".join(lines).rstrip())
    return err_type(plugin_error_to(err, _user_dir))


def _log_error(text: str) -> None:
    try:
        _host.backend("flowtrace_plugin._entry").log("ERROR", text)
    except Exception:
        pass


def _traces(raw: list[Any]) -> list[Trace]:
    from ._convert import HostSource

    return [Trace(HostSource(trace)) for trace in raw]


class Evaluator:
    """``flowtrace:plugin/evaluator`` over the plugin's :class:`flowtrace_plugin.Evaluator`."""

    def evaluate(self, trace: Any) -> Any:
        from ._convert import HostSource, eval_result_to

        try:
            plugin = _instance()
            result = plugin.evaluate(Trace(HostSource(trace)))
            return eval_result_to(result, f"`{type(plugin).__qualname__}.evaluate`")
        except Exception as err:
            raise _error(err) from None
        finally:
            _flush()

    def evaluate_batch(self, traces: list[Any]) -> list[Any]:
        from ._convert import ConversionError, eval_result_to

        ok_type = _host.wit("componentize_py_types").Ok
        try:
            try:
                plugin = _instance()
                where = f"`{type(plugin).__qualname__}.evaluate_batch`"
                results = list(plugin.evaluate_batch(_traces(traces)))
                if len(results) != len(traces):
                    raise ConversionError(
                        f"{where} returned {len(results)} results for {len(traces)} traces"
                    )
            except Exception as err:
                error = _error(err)
                return [error for _ in traces]
            out: list[Any] = []
            for i, result in enumerate(results):
                try:
                    if isinstance(result, BaseException):
                        raise result
                    out.append(ok_type(eval_result_to(result, f"item {i} of {where}")))
                except Exception as err:
                    out.append(_error(err))
            return out
        finally:
            _flush()


class Exporter:
    """``flowtrace:plugin/exporter`` over the plugin's :class:`flowtrace_plugin.Exporter`."""

    def formats(self) -> list[Any]:
        from ._convert import ConversionError
        from ._plugin import ExportFormat

        try:
            plugin = _instance()
            exporter = importlib.import_module("wit_world.exports.exporter")
            out = []
            for fmt in plugin.formats():
                if not isinstance(fmt, ExportFormat):
                    raise ConversionError(
                        f"`{type(plugin).__qualname__}.formats` must return ExportFormat "
                        f"items, got {type(fmt).__name__} {fmt!r}"
                    )
                out.append(
                    exporter.ExportFormat(
                        name=fmt.name, media_type=fmt.media_type, file_extension=fmt.file_extension
                    )
                )
            return out
        except Exception:
            _log_error(traceback.format_exc().rstrip())
            raise
        finally:
            _flush()

    def export_traces(self, format: str, traces: list[Any]) -> bytes:
        from ._convert import ConversionError

        try:
            plugin = _instance()
            data = plugin.export(format, _traces(traces))
            if isinstance(data, str):
                return data.encode("utf-8")
            if isinstance(data, (bytes, bytearray, memoryview)):
                return bytes(data)
            raise ConversionError(
                f"`{type(plugin).__qualname__}.export` must return bytes or str, "
                f"got {type(data).__name__}"
            )
        except Exception as err:
            raise _error(err) from None
        finally:
            _flush()


class Embedder:
    """``flowtrace:plugin/embedder`` over the plugin's :class:`flowtrace_plugin.Embedder`."""

    def dimension(self) -> int:
        try:
            return _dimension(_instance())
        except Exception:
            _log_error(traceback.format_exc().rstrip())
            raise
        finally:
            _flush()

    def embed(self, texts: list[str]) -> list[list[float]]:
        from ._convert import ConversionError

        try:
            plugin = _instance()
            vectors = [list(vector) for vector in plugin.embed(list(texts))]
            if len(vectors) != len(texts):
                raise ConversionError(
                    f"`embed` returned {len(vectors)} vectors for {len(texts)} texts"
                )
            dimension = _dimension(plugin)
            for i, vector in enumerate(vectors):
                if len(vector) != dimension:
                    raise ConversionError(
                        f"`embed` returned a vector of {len(vector)} numbers at {i}, "
                        f"`dimension` is {dimension}"
                    )
                for x in vector:
                    if isinstance(x, bool) or not isinstance(x, (int, float)):
                        raise ConversionError(
                            f"`embed` returned a vector holding {type(x).__name__} {x!r} at {i}"
                        )
            return [[float(x) for x in vector] for vector in vectors]
        except Exception as err:
            raise _error(err) from None
        finally:
            _flush()


def _dimension(plugin: Any) -> int:
    from ._convert import ConversionError

    value = plugin.dimension()
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32:
        raise ConversionError(
            f"`{type(plugin).__qualname__}.dimension` must return an int from 0 to 2^32 - 1, "
            f"got {value!r}"
        )
    return value


class Transformer:
    """``flowtrace:plugin/transformer`` over the plugin's
    :class:`flowtrace_plugin.Transformer`."""

    def transform(self, traces: list[Any]) -> list[Any]:
        from ._convert import ConversionError, trace_data_to

        try:
            plugin = _instance()
            where = f"`{type(plugin).__qualname__}.transform`"
            out = plugin.transform(_traces(traces))
            if not isinstance(out, (list, tuple)):
                raise ConversionError(
                    f"{where} must return a list of TraceData, got {type(out).__name__}"
                )
            return [
                trace_data_to(data, f"item {i} of what {where} returned")
                for i, data in enumerate(out)
            ]
        except Exception as err:
            raise _error(err) from None
        finally:
            _flush()
