"""The plugin kinds, one module each: its base class (public, re-exported by
:mod:`flowtrace_plugin`) and its adapter to the contract's interface (see
:mod:`flowtrace_plugin._entry`). A new kind is its module and its lines here."""

from __future__ import annotations

from . import embedder, evaluator, exporter, transformer
from ._bridge import Kind
from .embedder import Embedder
from .evaluator import Evaluator
from .exporter import ExportFormat, Exporter
from .transformer import Transformer

ALL: tuple[Kind, ...] = (evaluator.KIND, exporter.KIND, embedder.KIND, transformer.KIND)
"""Every kind, in the order the contract lists them."""

__all__ = ["Embedder", "Evaluator", "ExportFormat", "Exporter", "Transformer"]
