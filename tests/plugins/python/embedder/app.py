"""The contract embedder: eight numbers per text, computed the same way in every language
(lengths in UTF-8 bytes, code points and UTF-16 units, first and last code point, a division
rounded to f32); NaN and infinities for the empty text; `fail` refused. The rules are in the
README's "Contract suite" section."""

from flowtrace_plugin import Embedder, InvalidInput, export


def vector(text: str) -> list[float]:
    if not text:
        return [float("nan"), float("inf"), float("-inf"), -0.0, 0.0, 0.0, 0.0, 0.0]
    size = len(text.encode("utf-8"))
    return [
        float(size),
        float(len(text)),
        # (componentize-py's standard library has no UTF-16 codec)
        float(sum(2 if ord(c) > 0xFFFF else 1 for c in text)),
        float(ord(text[0])),
        float(ord(text[-1])),
        size / 3,
        0.1,
        float(sum(ord(c) for c in text) % 65521),
    ]


@export
class Plugin(Embedder):
    def dimension(self) -> int:
        return 8

    def embed(self, texts: list[str]) -> list[list[float]]:
        for i, text in enumerate(texts):
            if text == "fail":
                raise InvalidInput(f"text {i} asks to fail")
        return [vector(text) for text in texts]
