"""Lexicon-based sentiment and toxicity of a text: no model, no network, a few microseconds
per output.

Each word of the lexicon has a valence from -3 (very negative) to +3 (very positive). A
negator (`not`, `never`, any `...n't`) turns the valence of the next three words around and
weakens it; an intensifier (`very`, `extremely`) in front of a word strengthens it, a
diminisher (`slightly`) weakens it. The valences are summed and squashed into a polarity in
(-1, 1) with `sum / sqrt(sum² + 15)`, so that a single mild word stays mild and many strong
words approach ±1. A text is toxic when it contains a toxic term (a word, or a phrase of
several words in a row).

This is a heuristic: it misses sarcasm and context, and it is English only. It is a fast
first filter and a starting point; swap `score_text` for a call to a moderation service
(with the `network` capability) when you need more.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

VALENCE: dict[str, float] = {
    # positive
    "amazing": 3, "appreciate": 2, "awesome": 3, "beautiful": 3, "benefit": 2, "best": 2,
    "better": 1, "brilliant": 3, "calm": 1, "congratulations": 3, "delighted": 3,
    "easy": 1, "enjoy": 2, "excellent": 3, "excited": 2, "fantastic": 3, "fortunately": 2,
    "friendly": 2, "glad": 2, "good": 2, "great": 3, "happy": 2, "helpful": 2,
    "improved": 2, "kind": 2, "love": 3, "lovely": 3, "nice": 2, "perfect": 3,
    "pleased": 2, "pleasure": 2, "positive": 2, "recommend": 1, "resolved": 2, "safe": 1,
    "satisfied": 2, "success": 2, "successful": 2, "successfully": 2, "thank": 2,
    "thanks": 2, "welcome": 1, "wonderful": 3,
    # negative
    "afraid": -1, "angry": -3, "annoyed": -2, "annoying": -2, "apologies": -1,
    "apologize": -1, "awful": -3, "bad": -2, "boring": -2, "broken": -2, "confused": -2,
    "confusing": -2, "crash": -2, "damage": -2, "dangerous": -2, "denied": -2,
    "difficult": -1, "disappointed": -2, "disappointing": -2, "dislike": -2, "error": -2,
    "fail": -2, "failed": -2, "failure": -2, "frustrated": -2, "frustrating": -2,
    "hate": -3, "horrible": -3, "impossible": -2, "lost": -2, "mistake": -2, "nasty": -3,
    "pain": -2, "painful": -2, "poor": -2, "problem": -1, "problems": -1, "refuse": -2,
    "refused": -2, "regret": -2, "rejected": -2, "sad": -2, "sorry": -1, "terrible": -3,
    "ugly": -3, "unable": -1, "unfortunately": -2, "useless": -2, "waste": -2,
    "worried": -2, "worse": -2, "worst": -3, "wrong": -2,
}  # fmt: skip

NEGATORS = frozenset(
    {"not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without",
     "hardly", "cannot"}
)  # fmt: skip
"""Words that turn the next words' valence around (and any word ending in `n't`)."""

NEGATION_SCOPE = 3
"""How many words after a negator it applies to."""

NEGATION_FACTOR = -0.5
"""What a negated word's valence is multiplied by: "not good" is mildly negative."""

BOOSTERS: dict[str, float] = {
    "very": 1.3, "really": 1.3, "extremely": 1.5, "incredibly": 1.5, "absolutely": 1.4,
    "totally": 1.3, "super": 1.3, "highly": 1.3, "slightly": 0.6, "somewhat": 0.7,
}  # fmt: skip
"""Words that scale the valence of the word right after them."""

TOXIC_TERMS: tuple[str, ...] = (
    "idiot", "idiots", "idiotic", "stupid", "moron", "morons", "imbecile", "dumb",
    "loser", "losers", "pathetic", "worthless", "scum", "shut up", "screw you",
    "hate you", "you suck", "go to hell",
)  # fmt: skip
"""Words and phrases counted as toxic; `extra-toxic-terms` in the config adds more."""

SQUASH = 15.0
"""The constant of `sum / sqrt(sum² + SQUASH)`."""

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def words(text: str) -> list[str]:
    """The lowercase words of `text`; an apostrophe inside a word is kept (`can't`).

    >>> words("I can’t say it's GREAT!")
    ['i', "can't", 'say', "it's", 'great']
    """
    return _WORD.findall(text.lower().replace("\u2019", "'"))


@dataclass(frozen=True)
class TextScore:
    """The sentiment and toxicity of one text."""

    polarity: float
    """From -1 (very negative) to 1 (very positive); 0 without sentiment words."""
    sentiment_words: list[str] = field(default_factory=list)
    """The words that moved the polarity, negated ones written `not <word>`, in order."""
    toxic_terms: list[str] = field(default_factory=list)
    """The toxic terms found, each once, in the order of `toxic`."""


class Lexicon:
    """The built-in lexicon plus extra toxic terms."""

    def __init__(self, extra_toxic_terms: Iterable[str] = ()) -> None:
        self.toxic: list[tuple[str, ...]] = []
        for term in (*TOXIC_TERMS, *extra_toxic_terms):
            tokens = tuple(words(term))
            if tokens and tokens not in self.toxic:
                self.toxic.append(tokens)

    def score(self, text: str) -> TextScore:
        """Score `text`.

        >>> lexicon = Lexicon()
        >>> lexicon.score("The capital of France is Paris.").polarity
        0.0
        >>> round(lexicon.score("Great news, the refund was approved!").polarity, 2)
        0.61
        >>> lexicon.score("This is not good.").sentiment_words
        ['not good']
        >>> lexicon.score("Shut up, you idiot.").toxic_terms
        ['idiot', 'shut up']
        """
        tokens = words(text)
        total = 0.0
        moved: list[str] = []
        negated_until = -1
        for i, token in enumerate(tokens):
            if token in NEGATORS or token.endswith("n't"):
                negated_until = i + NEGATION_SCOPE
                continue
            valence = VALENCE.get(token)
            if valence is None:
                continue
            if i > 0 and tokens[i - 1] in BOOSTERS:
                valence *= BOOSTERS[tokens[i - 1]]
            if i <= negated_until:
                valence *= NEGATION_FACTOR
                moved.append(f"not {token}")
            else:
                moved.append(token)
            total += valence
        polarity = total / math.sqrt(total * total + SQUASH) if total else 0.0
        return TextScore(polarity, moved, self._toxic_terms(tokens))

    def _toxic_terms(self, tokens: list[str]) -> list[str]:
        found = []
        for term in self.toxic:
            n = len(term)
            if any(tuple(tokens[i : i + n]) == term for i in range(len(tokens) - n + 1)):
                found.append(" ".join(term))
        return found
