"""Unit tests of the evaluator in plain Python, without building it:

    PYTHONPATH=target/flowtrace/python/sdk python -m unittest test_app

(`cargo flowtrace build` writes the SDK there; in this repository, `sdk/python` works too.)
`cargo flowtrace test` runs the fixtures in `tests/` against the built component.
"""

from __future__ import annotations

import unittest

from flowtrace_plugin import EvalResult, InvalidConfig, Span, SpanKind, Trace, TraceData, testing
from flowtrace_plugin.config import ConfigValue

from app import SentimentEvaluator
from lexicon import Lexicon
from messages import output_text

CONFIG: dict[str, ConfigValue] = {"min-polarity": -0.3, "extra-toxic-terms": []}


def answer(*texts: str, run_output: str | None = None) -> Trace:
    """A trace with one LLM call per text (plain-text outputs)."""
    spans = [
        Span(f"{i:02}", "chat", SpanKind.LLM_CALL, output=text) for i, text in enumerate(texts)
    ]
    return Trace.from_data(TraceData(id="t", output=run_output, spans=spans))


class LexiconTest(unittest.TestCase):
    def test_negation_and_boosters(self) -> None:
        lexicon = Lexicon()
        good = lexicon.score("good").polarity
        self.assertGreater(lexicon.score("very good").polarity, good)
        self.assertLess(lexicon.score("slightly good").polarity, good)
        self.assertLess(lexicon.score("not good").polarity, 0)
        self.assertGreater(lexicon.score("it isn't bad at all").polarity, 0)
        self.assertEqual(lexicon.score("not that it matters, good").sentiment_words, ["good"])

    def test_toxic_terms_match_whole_words_and_phrases(self) -> None:
        lexicon = Lexicon(["figure it out yourself"])
        self.assertEqual(
            lexicon.score("Figure it out YOURSELF.").toxic_terms, ["figure it out yourself"]
        )
        self.assertEqual(lexicon.score("a dumbbell workout").toxic_terms, [])
        self.assertEqual(lexicon.score("shut the door up").toxic_terms, [])

    def test_output_text_reads_parts(self) -> None:
        parts = '[{"role":"assistant","parts":[{"type":"text","content":"a"},{"type":"text","content":"b"}]}]'
        self.assertEqual(output_text(parts), "a\nb")
        self.assertEqual(output_text("[1, 2]"), "[1, 2]")


class EvaluatorTest(unittest.TestCase):
    def evaluate(self, trace: Trace, **config: ConfigValue) -> EvalResult:
        with testing.host(config={**CONFIG, **config}):
            return SentimentEvaluator().evaluate(trace)

    def test_neutral_answers_pass(self) -> None:
        result = self.evaluate(answer("The capital of France is Paris."))
        self.assertTrue(result.passed)
        self.assertEqual((result.label, result.score), ("neutral", 0.5))

    def test_one_negative_answer_fails_the_trace(self) -> None:
        result = self.evaluate(
            answer("Great, done!", "Sorry, that failed. Unfortunately it is broken.")
        )
        self.assertFalse(result.passed)
        self.assertEqual(result.label, "negative")
        self.assertEqual([f.span_id for f in result.findings], ["01"])
        self.assertEqual(result.metrics["negative"], 1)

    def test_toxic_beats_negative(self) -> None:
        result = self.evaluate(answer("Sorry, that failed terribly.", "You idiot."))
        self.assertEqual(result.label, "toxic")
        self.assertEqual(result.metrics["toxic"], 1)

    def test_the_run_output_is_the_fallback(self) -> None:
        result = self.evaluate(answer(run_output="Thanks, happy to help!"))
        self.assertEqual(result.label, "positive")
        self.assertEqual(result.metrics["outputs"], 1)
        self.assertEqual(self.evaluate(answer()).label, "no-output")

    def test_min_polarity_is_checked(self) -> None:
        with self.assertRaisesRegex(InvalidConfig, "must be between -1.0 and 1.0"):
            self.evaluate(answer("hi"), **{"min-polarity": -2.0})


if __name__ == "__main__":
    unittest.main()
