"""What an evaluator returns: :class:`EvalResult`, with :class:`Finding` and metrics."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._data import Span
    from ._trace import SpanRef

__all__ = ["EvalResult", "Finding", "MetricValue"]

MetricValue = float | int | bool | str
"""A named measurement's value: the contract's ``float``, ``integer``, ``boolean`` or
``text``, from the Python type (``bool`` is checked before ``int``).

>>> metrics: dict[str, MetricValue] = {"llm-spans": 3, "cost-usd": 0.0042, "model": "gpt-4o"}
"""


def check_score(score: object) -> float:
    """``score`` as a float, if it is a number in ``[0.0, 1.0]``; else a ``ValueError`` or
    ``TypeError`` saying what is wrong.

    >>> check_score(1)
    1.0
    >>> check_score(1.5)
    Traceback (most recent call last):
    ...
    ValueError: score must be between 0.0 and 1.0, got 1.5
    """
    if isinstance(score, bool) or not isinstance(score, (int, float)):
        raise TypeError(
            f"score must be a float between 0.0 and 1.0, got {type(score).__name__} {score!r}"
        )
    value = float(score)
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"score must be between 0.0 and 1.0, got {score!r}")
    return value


@dataclass
class Finding:
    """Something an evaluator noticed, optionally about one span.

    >>> Finding("output cut off by the token limit", span_id="5f8a0c2b9d1e3f47").span_id
    '5f8a0c2b9d1e3f47'
    >>> Finding("the run produced no final answer").span_id is None
    True
    """

    message: str
    """What was found."""
    span_id: str | None = None
    """The span the finding is about; ``None`` for the whole trace."""


@dataclass
class EvalResult:
    """The verdict of an evaluator on one trace.

    Start from :meth:`ok` or :meth:`fail` (or the constructor), then add metrics and
    findings with :meth:`metric` and :meth:`finding`, which return the result so calls
    chain. The fields can be set directly too.

    The score must lie in ``[0.0, 1.0]``: the constructor raises ``ValueError`` otherwise,
    and a score changed later is checked again when the result is returned to the host.

    >>> result = (
    ...     EvalResult.fail(0.5, label="truncated",
    ...                     explanation="1 of 2 LLM calls was cut off by the token limit")
    ...     .metric("llm-spans", 2)
    ...     .finding("finish reason `length`", span_id="5f8a0c2b9d1e3f47")
    ... )
    >>> result.passed, result.metrics, len(result.findings)
    (False, {'llm-spans': 2}, 1)
    >>> EvalResult(1.2, True)
    Traceback (most recent call last):
    ...
    ValueError: score must be between 0.0 and 1.0, got 1.2
    """

    score: float
    """Between 0.0 and 1.0."""
    passed: bool
    """Whether the trace passed."""
    label: str | None = None
    """A short label, e.g. ``ok`` or ``truncated``."""
    explanation: str | None = None
    """A sentence or two on why."""
    metrics: dict[str, MetricValue] = field(default_factory=dict)
    """Named measurements, kebab-case names by convention (``llm-spans``), in insertion
    order."""
    findings: list[Finding] = field(default_factory=list)
    """What was noticed, per span or for the whole trace."""

    def __post_init__(self) -> None:
        self.score = check_score(self.score)

    @classmethod
    def ok(
        cls,
        score: float = 1.0,
        *,
        label: str | None = None,
        explanation: str | None = None,
    ) -> EvalResult:
        """A passing result.

        >>> EvalResult.ok().passed, EvalResult.ok().score
        (True, 1.0)
        >>> EvalResult.ok(0.9, label="ok").label
        'ok'
        """
        return cls(score, True, label=label, explanation=explanation)

    @classmethod
    def fail(
        cls,
        score: float = 0.0,
        *,
        label: str | None = None,
        explanation: str | None = None,
    ) -> EvalResult:
        """A failing result.

        >>> EvalResult.fail(0.2, explanation="2 of 5 tool calls failed").passed
        False
        """
        return cls(score, False, label=label, explanation=explanation)

    def metric(self, name: str, value: MetricValue) -> EvalResult:
        """Add (or replace) metric ``name``; returns the result.

        >>> EvalResult.ok().metric("tool-calls", 3).metric("cost-usd", 0.0042).metrics
        {'tool-calls': 3, 'cost-usd': 0.0042}
        """
        self.metrics[name] = value
        return self

    def finding(self, message: str, span_id: str | SpanRef | Span | None = None) -> EvalResult:
        """Add a finding, about one span when ``span_id`` is given (an id, or a span whose
        ``id`` is used); returns the result.

        >>> result = EvalResult.fail(0.0).finding("the run has no final output")
        >>> result.finding("empty output", span_id="00f067aa0ba902b7").findings[1].span_id
        '00f067aa0ba902b7'
        """
        if span_id is not None and not isinstance(span_id, str):
            span_id = span_id.id
        self.findings.append(Finding(message, span_id))
        return self
