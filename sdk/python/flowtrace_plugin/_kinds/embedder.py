"""The embedder kind: :class:`Embedder`, which turns texts into vectors, and its adapter
to ``flowtrace:plugin/embedder``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from ._bridge import Kind, fallible, infallible

__all__ = ["Embedder"]


class Embedder(ABC):
    """Turns texts into vectors. Implement :meth:`dimension` and :meth:`embed`; decorate
    the class with ``@export``.

    The SDK checks what :meth:`embed` returns (one vector per text, each of
    :meth:`dimension` numbers); anything else becomes a ``failed`` error saying what was
    wrong.

    >>> from flowtrace_plugin import export
    >>> @export
    ... class Lengths(Embedder):
    ...     def dimension(self) -> int:
    ...         return 1
    ...
    ...     def embed(self, texts: list[str]) -> list[list[float]]:
    ...         return [[float(len(text))] for text in texts]
    """

    @abstractmethod
    def dimension(self) -> int:
        """The dimension of the vectors :meth:`embed` returns. The contract gives this
        call no way to fail: an exception here traps the component.

        >>> class MiniLm(Embedder):
        ...     def dimension(self) -> int:
        ...         return 384
        ...     def embed(self, texts: list[str]) -> list[list[float]]:
        ...         return [[0.0] * 384 for _ in texts]
        >>> MiniLm().dimension()
        384
        """

    @abstractmethod
    def embed(self, texts: list[str]) -> Sequence[Sequence[float]]:
        """One vector per text, in order.

        >>> class Zeros(Embedder):
        ...     def dimension(self) -> int:
        ...         return 2
        ...     def embed(self, texts: list[str]) -> list[list[float]]:
        ...         return [[0.0, 0.0] for _ in texts]
        >>> Zeros().embed(["a", "b"])
        [[0.0, 0.0], [0.0, 0.0]]
        """


class Adapter:
    """``flowtrace:plugin/embedder`` over the plugin's :class:`Embedder`."""

    def dimension(self) -> int:
        return infallible(_dimension)

    def embed(self, texts: list[str]) -> list[list[float]]:
        from .._convert import ConversionError

        def call(plugin: Any) -> list[list[float]]:
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

        return fallible(call)


def _dimension(plugin: Any) -> int:
    from .._convert import ConversionError

    value = plugin.dimension()
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32:
        raise ConversionError(
            f"`{type(plugin).__qualname__}.dimension` must return an int from 0 to 2^32 - 1, "
            f"got {value!r}"
        )
    return value


KIND = Kind("embedder", Embedder, Adapter)
