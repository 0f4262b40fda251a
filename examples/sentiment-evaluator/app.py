"""Sentiment Evaluator: scores the tone of what an agent's LLM calls answered.

Each LLM call's output (its text parts; tool calls have none) is scored with a lexicon
(`lexicon.py`): a polarity from -1 (very negative) to 1 (very positive), and the toxic terms
it contains. A trace without LLM outputs falls back to the run's own output.

- finding per flagged output: toxic (any toxic term), or negative (polarity below
  `min-polarity`)
- passed: nothing flagged
- score: (mean polarity + 1) / 2, a toxic output counting as -1: 0.5 is neutral
- label: the worst finding (`toxic`, then `negative`); without findings, the tone of the
  mean polarity: `positive` (0.3 or more), `negative` (-0.3 or less, possible only with a
  lower `min-polarity`) or `neutral`; `no-output` when there is no text to score
- metrics: `outputs`, `negative`, `toxic`, `mean-polarity`, `lowest-polarity`
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from flowtrace_plugin import (
    EvalResult,
    Evaluator,
    InvalidConfig,
    SpanKind,
    Trace,
    config,
    export,
    log,
)

from lexicon import Lexicon
from messages import output_text

TONE = 0.3
"""How far from 0 the mean polarity of a trace without findings must be for the label
`positive` or `negative` rather than `neutral`."""


class Output(NamedTuple):
    """One text to score, and where it comes from."""

    where: str
    span_id: str | None
    text: str


@export
class SentimentEvaluator(Evaluator):
    def evaluate(self, trace: Trace) -> EvalResult:
        min_polarity = config.require("min-polarity", float)
        if not -1.0 <= min_polarity <= 1.0:
            raise InvalidConfig(
                f"config `min-polarity` must be between -1.0 and 1.0, found {min_polarity}"
            )
        lexicon = Lexicon(config.require("extra-toxic-terms", list))

        outputs = list(llm_outputs(trace))
        if not outputs:
            return EvalResult.ok(
                1.0, label="no-output", explanation="no LLM output with text to score"
            ).metric("outputs", 0)

        result = EvalResult.ok()
        negative = toxic = 0
        polarities = []
        for output in outputs:
            score = lexicon.score(output.text)
            log.debug(f"{output.where}: polarity {score.polarity:.3f} {score.sentiment_words}")
            if score.toxic_terms:
                toxic += 1
                polarities.append(-1.0)
                terms = ", ".join(score.toxic_terms)
                result.finding(f"{output.where} uses toxic language: {terms}", output.span_id)
            elif score.polarity < min_polarity:
                negative += 1
                polarities.append(score.polarity)
                because = ", ".join(score.sentiment_words)
                result.finding(
                    f"{output.where} sounds negative (polarity {score.polarity:.2f}): {because}",
                    output.span_id,
                )
            else:
                polarities.append(score.polarity)

        mean = sum(polarities) / len(polarities)
        result.score = min(1.0, max(0.0, (mean + 1.0) / 2.0))
        result.passed = toxic == 0 and negative == 0
        if toxic:
            result.label = "toxic"
        elif negative or mean <= -TONE:
            result.label = "negative"
        else:
            result.label = "positive" if mean >= TONE else "neutral"
        scored = f"{len(outputs)} output{'' if len(outputs) == 1 else 's'}"
        result.explanation = (
            f"{scored} scored, mean polarity {mean:.2f}: {negative} negative, {toxic} toxic"
        )
        return (
            result.metric("outputs", len(outputs))
            .metric("negative", negative)
            .metric("toxic", toxic)
            .metric("mean-polarity", round(mean, 4) + 0.0)
            .metric("lowest-polarity", round(min(polarities), 4) + 0.0)
        )


def llm_outputs(trace: Trace) -> Iterator[Output]:
    """The text of each LLM call's output; the run's output when no LLM call has text."""
    found = False
    for span in trace.spans_of_kind(SpanKind.LLM_CALL):
        if span.output_len == 0:  # read from the span facts: no string copied
            continue
        text = output_text(span.output or "")
        if text.strip():
            found = True
            yield Output(f"`{span.name}`", span.id, text)
    if not found and trace.output:
        text = output_text(trace.output)
        if text.strip():
            yield Output("the run's output", None, text)
