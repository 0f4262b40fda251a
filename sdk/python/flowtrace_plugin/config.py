"""The plugin's settings: the ``[config]`` table of its ``flowtrace.toml``, with the user's
overrides, checked by the host against the declared types before the plugin runs. Always
available.

.. code-block:: toml

    [config]
    threshold = { type = "float", default = 0.7 }
    max-output-chars = { type = "integer", default = 20000 }
    labels = { type = "string-list", default = ["ok"] }

Values arrive as plain Python: ``string`` as ``str``, ``integer`` as ``int``, ``float`` as
``float``, ``boolean`` as ``bool``, ``string-list`` as ``list[str]``::

    from flowtrace_plugin import config

    threshold = config.require("threshold", float)   # InvalidConfig if missing or not a number
    labels = config.get("labels", [])                # the default when the key has no value

These functions call the host: inside a component they just work; in a unit test, wrap the
calls in :func:`flowtrace_plugin.testing.host`.
"""

from __future__ import annotations

import json
from typing import TypeVar, overload

from . import _host
from .errors import InvalidConfig

__all__ = ["ConfigValue", "get", "keys", "require"]

ConfigValue = str | int | float | bool | list[str]
"""A configuration value: one Python type per ``type`` of ``[config]`` (``string``,
``integer``, ``float``, ``boolean``, ``string-list``).

>>> value: ConfigValue = ["ok", "slow"]
"""

_T = TypeVar("_T")
_D = TypeVar("_D")

# What `require` accepts for each Python type, in messages.
_EXPECTED = {
    str: "a string",
    int: "an integer",
    float: "a float",
    bool: "a boolean",
    list: "a string-list",
}


@overload
def get(key: str) -> ConfigValue | None: ...
@overload
def get(key: str, default: _D) -> ConfigValue | _D: ...
def get(key: str, default: object = None) -> object:
    """The value of ``key``, or ``default`` when it has none (the key is not declared, or
    is declared without a default and the user did not set it).

    >>> from flowtrace_plugin import testing
    >>> with testing.host(config={"threshold": 0.8}):
    ...     get("threshold"), get("labels", ["ok"])
    (0.8, ['ok'])
    """
    value = _host.backend("flowtrace_plugin.config.get").config_get(key)
    return default if value is None else value


@overload
def require(key: str) -> ConfigValue: ...
@overload
def require(key: str, kind: type[_T]) -> _T: ...
def require(key: str, kind: type | None = None) -> object:
    """The value of ``key``, checked to be of type ``kind`` (``str``, ``int``, ``float``,
    ``bool`` or ``list``; any type when omitted). An ``integer`` value is accepted as a
    ``float``, converted.

    Raises :class:`~flowtrace_plugin.InvalidConfig`, naming the key, when it has no value
    or one of another type; the host receives it as ``invalid-config``.

    >>> from flowtrace_plugin import testing
    >>> with testing.host(config={"max-span-ms": 500, "mode": "strict"}):
    ...     require("max-span-ms", float)
    500.0
    >>> with testing.host(config={"mode": "strict"}):
    ...     require("mode", bool)
    Traceback (most recent call last):
    ...
    flowtrace_plugin.errors.InvalidConfig: config `mode`: expected a boolean, found a string ("strict")
    >>> with testing.host(config={}):
    ...     require("threshold", float)
    Traceback (most recent call last):
    ...
    flowtrace_plugin.errors.InvalidConfig: config `threshold` has no value: declare it under `[config]` in flowtrace.toml with a default
    """
    value = _host.backend("flowtrace_plugin.config.require").config_get(key)
    if value is None:
        raise InvalidConfig(
            f"config `{key}` has no value: declare it under `[config]` in flowtrace.toml "
            "with a default"
        )
    if kind is None:
        return value
    if kind not in _EXPECTED:
        raise TypeError(
            f"`config.require` takes str, int, float, bool or list as its type, not {kind!r}"
        )
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if type(value) is kind:
        return value
    raise InvalidConfig(f"config `{key}`: expected {_EXPECTED[kind]}, found {_describe(value)}")


def keys() -> list[str]:
    """The keys of ``[config]``, as the host reports them.

    >>> from flowtrace_plugin import testing
    >>> with testing.host(config={"threshold": 0.7, "labels": []}):
    ...     sorted(keys())
    ['labels', 'threshold']
    """
    return _host.backend("flowtrace_plugin.config.keys").config_keys()


def _describe(value: object) -> str:
    """``a string ("x")``: the manifest's type name and the value as TOML writes it."""
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a float ({value!r})"
    if isinstance(value, str):
        return f"a string ({json.dumps(value, ensure_ascii=False)})"
    if isinstance(value, list):
        return f"a string-list ({json.dumps(value, ensure_ascii=False)})"
    return f"a {type(value).__name__} ({value!r})"
