"""The host behind ``config``, ``log``, ``kv``, ``traces`` and ``embeddings``: the generated
bindings (``wit_world``) inside a component, or a stand-in installed by
:func:`flowtrace_plugin.testing.host`. Not public API.

The bindings are imported on first use, one interface at a time: a component's world has
only the interfaces its manifest's capabilities grant, so ``wit_world.imports.kv`` exists
only with ``storage = true``.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from .errors import BuildError, CapabilityNotDeclared, NotInComponent, PluginError

if TYPE_CHECKING:
    from ._trace import Trace
    from .config import ConfigValue


class Backend(Protocol):
    """What the SDK's host modules call; values are plain Python."""

    def log(self, level: str, message: str) -> None: ...
    def config_get(self, key: str) -> ConfigValue | None: ...
    def config_keys(self) -> list[str]: ...
    def kv_get(self, key: str) -> bytes | None: ...
    def kv_set(self, key: str, value: bytes) -> str | None: ...
    def kv_delete(self, key: str) -> None: ...
    def kv_keys(self, prefix: str) -> list[str]: ...
    def traces_get(self, trace_id: str) -> Trace | None: ...
    def traces_query(
        self, name_contains: str | None, since_ns: int | None, until_ns: int | None, limit: int
    ) -> list[str]: ...
    def embeddings_dimension(self) -> int: ...
    def embeddings_embed(self, texts: Sequence[str]) -> list[list[float]]: ...


_stand_in: Backend | None = None
_modules: dict[str, ModuleType] = {}

importing: str | None = None
"""The file of the plugin's module while the build imports it (no host exists then)."""


def bindings_present() -> bool:
    """Whether the generated bindings are importable (inside a component, or during its
    build)."""
    try:
        return importlib.util.find_spec("wit_world") is not None
    except (ImportError, ValueError):
        return False


def wit(name: str) -> ModuleType:
    """``wit_world.imports.<name>`` (or ``componentize_py_types`` for ``name`` = that),
    imported once."""
    module = _modules.get(name)
    if module is None:
        path = name if name == "componentize_py_types" else f"wit_world.imports.{name}"
        try:
            module = importlib.import_module(path)
        except ModuleNotFoundError as err:
            # A world that also imports `wasi:http` has two `types` interfaces:
            # componentize-py then names them by package (`flowtrace_plugin_types`,
            # `wasi_http_types`).
            alias = _QUALIFIED.get(name)
            if alias is None or err.name != path:
                raise
            module = importlib.import_module(f"wit_world.imports.{alias}")
        _modules[name] = module
    return module


_QUALIFIED = {"types": "flowtrace_plugin_types", "wasi_http_types": "types"}
"""The other name of an interface whose plain name another package's interface shares."""


CAPABILITY_MODULES: dict[str, tuple[str, str]] = {
    "kv": ("storage", "kv"),
    "traces": ("traces", "traces"),
    "embeddings": ("embeddings", "embeddings"),
    "http": ("network", "outgoing_handler"),
}
"""Each SDK module that needs a capability: ``module: (capability, interface)``."""


def has_interface(interface: str) -> bool:
    """Whether the component's world imports ``interface`` (its capability is granted)."""
    try:
        wit(interface)
    except ModuleNotFoundError as err:
        if err.name == f"wit_world.imports.{interface}":
            return False
        raise
    return True


class CapabilityFinder:
    """The last finder of ``sys.meta_path``: an SDK module of a capability that nothing else
    found. In a component, only the modules imported while it was built exist; a capability
    module imported later (inside a function) and not granted gets the build's error,
    :class:`CapabilityNotDeclared`, rather than a bare ``ImportError``."""

    @staticmethod
    def find_spec(fullname: str, path: Any = None, target: Any = None) -> None:
        package, _, module = fullname.rpartition(".")
        entry = CAPABILITY_MODULES.get(module) if package == "flowtrace_plugin" else None
        if entry is not None and bindings_present() and not has_interface(entry[1]):
            raise CapabilityNotDeclared(module, entry[0])
        return None


def preload_capability_modules() -> None:
    """Import, at build time, the SDK module of every capability the world grants: imported
    later, inside a function, it must already be in the component (its file is not)."""
    for module, (_capability, interface) in CAPABILITY_MODULES.items():
        if has_interface(interface):
            importlib.import_module(f"flowtrace_plugin.{module}")


def check_capability(module: str, capability: str, interface: str) -> None:
    """Raise :class:`CapabilityNotDeclared` when the bindings exist but lack ``interface``:
    the world was built without ``capability``. Outside a component there is nothing to
    check (calls then fail with :class:`NotInComponent`, or reach a test stand-in)."""
    if bindings_present() and not has_interface(interface):
        raise CapabilityNotDeclared(module, capability)


def backend(function: str) -> Backend:
    """The backend for a call to ``function`` (dotted name, for the error outside a
    component)."""
    if _stand_in is not None:
        return _stand_in
    if importing is not None:
        raise BuildError(
            f"`{function}` was called while the build imported `{importing}`, and the host "
            "only exists during a call: call it inside the plugin's methods instead"
        )
    if _wit_backend is not None:
        return _wit_backend
    if bindings_present():
        return _install_wit_backend()
    raise NotInComponent(function)


def set_stand_in(stand_in: Backend | None) -> Backend | None:
    """Install ``stand_in`` (``None`` removes it); returns the previous one."""
    global _stand_in
    previous, _stand_in = _stand_in, stand_in
    return previous


class WitBackend:
    """The backend over the generated bindings."""

    def log(self, level: str, message: str) -> None:
        host = wit("log")
        host.log(host.Level[level], message)

    def config_get(self, key: str) -> ConfigValue | None:
        raw = wit("config").get(key)
        if raw is None:
            return None
        value: ConfigValue = raw.value
        return list(value) if isinstance(value, list) else value

    def config_keys(self) -> list[str]:
        return list(wit("config").keys())

    def kv_get(self, key: str) -> bytes | None:
        value = wit("kv").get(key)
        return None if value is None else bytes(value)

    def kv_set(self, key: str, value: bytes) -> str | None:
        err_type = wit("componentize_py_types").Err
        try:
            wit("kv").set(key, value)
        except err_type as err:
            return str(err.value)
        return None

    def kv_delete(self, key: str) -> None:
        wit("kv").delete(key)

    def kv_keys(self, prefix: str) -> list[str]:
        return list(wit("kv").keys(prefix))

    def traces_get(self, trace_id: str) -> Trace | None:
        from ._convert import HostSource
        from ._trace import Trace

        raw = wit("traces").get(trace_id)
        return None if raw is None else Trace(HostSource(raw, owned=True))

    def traces_query(
        self, name_contains: str | None, since_ns: int | None, until_ns: int | None, limit: int
    ) -> list[str]:
        host = wit("traces")
        query = host.TraceQuery(
            name_contains=name_contains, since_ns=since_ns, until_ns=until_ns, limit=limit
        )
        return list(host.query(query))

    def embeddings_dimension(self) -> int:
        return int(self._embeddings_call("dimension"))

    def embeddings_embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = self._embeddings_call("embed", list(texts))
        return [list(vector) for vector in vectors]

    def _embeddings_call(self, function: str, *args: Any) -> Any:
        from ._convert import plugin_error_from

        err_type = wit("componentize_py_types").Err
        try:
            return getattr(wit("embeddings"), function)(*args)
        except err_type as err:
            error: PluginError = plugin_error_from(err.value)
            raise error from None


_wit_backend: WitBackend | None = None


def _install_wit_backend() -> WitBackend:
    global _wit_backend
    if _wit_backend is None:
        _wit_backend = WitBackend()
    return _wit_backend
