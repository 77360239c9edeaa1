"""ASDF reading and writing of data models with the asdf library.

The tree holds ``meta`` (the pydantic dump, including ``meta.model_type``, the class name)
and one numpy array per array attribute.  Arrays load when first read (``lazy_load``); they
are read into memory rather than memory-mapped, because asdf maps files read-only and steps
modify arrays in place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asdf
import numpy as np

from datamodels._spec import ArraySpec, ModelLike, ModelT

__all__ = ["open_asdf", "read_asdf", "write_asdf"]


def write_asdf(model: ModelLike, path: Path) -> None:
    """Write ``model`` to ``path`` (the caller handles atomic replacement)."""
    tree: dict[str, Any] = {"meta": model.meta.model_dump(mode="json", exclude_none=True)}
    if any(model.extra_fits.values()):
        tree["extra_fits"] = {
            role: [list(c) for c in cards] for role, cards in model.extra_fits.items()
        }
    tree.update(model.arrays())
    asdf.AsdfFile(tree).write_to(path)


def open_asdf(path: Path) -> asdf.AsdfFile:
    """Open an ASDF file lazily."""
    return asdf.open(path, lazy_load=True, memmap=False)


def read_asdf(model_cls: type[ModelT], af: asdf.AsdfFile, name: str) -> ModelT:
    """Build a ``model_cls`` from an open ASDF file; closing the model closes the file."""
    meta = model_cls.meta_class.from_mapping(
        af.tree.get("meta", {}), default_where=f"meta of {name}"
    )

    def load(spec: ArraySpec) -> np.ndarray | None:
        value = af.tree.get(spec.name)
        return None if value is None else np.asarray(value)

    model = model_cls._from_parts(meta, load, af.close)
    extra = af.tree.get("extra_fits", {})
    model.extra_fits = {role: [tuple(card) for card in cards] for role, cards in extra.items()}
    return model
