"""Span and trace attributes as plain Python values: :data:`AttributeValue`."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["AttributeValue", "as_string_list"]

AttributeValue = str | int | float | bool | list[Any] | dict[str, Any] | None
"""An attribute's value as plain Python: the contract's ``text``, ``integer``, ``float`` and
``boolean`` arrive as ``str``, ``int``, ``float`` and ``bool``; ``json`` (an OpenTelemetry
array or map) arrives parsed, usually as a ``list`` or a ``dict`` (the JSON text itself when it
does not parse).

Going back (a transformer's :class:`~flowtrace_plugin.TraceData`), ``str``, ``int``,
``float`` and ``bool`` become those variants again, and anything else (``list``, ``tuple``,
``dict``, ``None``) becomes ``json``, written compactly.

>>> value: AttributeValue = ["stop"]
>>> as_string_list(value)
['stop']
"""


def as_string_list(value: AttributeValue) -> list[str] | None:
    """The value as a list of strings: a string is a list of one, a list of strings is
    itself; anything else is ``None``.

    Instrumentations disagree on whether a list attribute such as
    ``gen_ai.response.finish_reasons`` is a string or an array; this reads both.

    >>> as_string_list("stop")
    ['stop']
    >>> as_string_list(["stop", "length"])
    ['stop', 'length']
    >>> as_string_list([1]) is None
    True
    """
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    return None


def from_json_text(text: str) -> AttributeValue:
    """The value of a ``json`` attribute: parsed, or the text itself when it is not JSON.

    >>> from_json_text('{"k": [1, 2]}')
    {'k': [1, 2]}
    >>> from_json_text('not json')
    'not json'
    """
    try:
        value: AttributeValue = json.loads(text)
    except ValueError:
        return text
    return value


def to_json_text(value: Any) -> str:
    """The compact JSON text of a ``json`` attribute value.

    >>> to_json_text(["a", {"b": 1}])
    '["a",{"b":1}]'
    """
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
