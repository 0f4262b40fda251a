"""The text of an LLM output. The host gives LLM outputs as GenAI "parts" message JSON
(`[{"role":"assistant","parts":[{"type":"text","content":"..."}]}]`), whatever the
instrumentation recorded; anything else is read as plain text.
"""

from __future__ import annotations

import json
from typing import Any


def output_text(output: str) -> str:
    """The text content of `output`: its text parts joined by newlines (tool calls and other
    parts have none), or `output` itself when it is not parts JSON.

    >>> output_text('[{"role":"assistant","parts":[{"type":"text","content":"Paris."}]}]')
    'Paris.'
    >>> output_text('[{"role":"assistant","parts":[{"type":"tool_call","name":"get_weather"}]}]')
    ''
    >>> output_text("plain answer")
    'plain answer'
    """
    try:
        messages: Any = json.loads(output)
    except ValueError:
        return output
    if not (
        isinstance(messages, list)
        and messages
        and all(isinstance(m, dict) and "parts" in m for m in messages)
    ):
        return output
    texts = []
    for message in messages:
        parts = message.get("parts")
        for part in parts if isinstance(parts, list) else []:
            if not isinstance(part, dict) or part.get("type", "text") != "text":
                continue
            content = part.get("content")
            if isinstance(content, str) and content.strip():
                texts.append(content)
    return "\n".join(texts)
