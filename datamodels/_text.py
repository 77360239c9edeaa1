"""TOML and YAML documents: selection keywords in a ``meta`` table, arrays as lists.

A document has ``meta`` (FITS keyword → value, the same keywords as the primary header of a
FITS reference), ``provenance`` (``ref_file`` and ``cal_step``, when any) and one entry per
array: an image as nested lists, a table as a list of ``{column: value}`` rows.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w
import yaml

from datamodels._cards import meta_from_cards
from datamodels._fields import PRIMARY, SCI, keyword_fields
from datamodels._spec import ModelLike, ModelT

__all__ = ["load_document", "model_from_document", "write_document"]


def _document(model: ModelLike) -> dict[str, Any]:
    meta = model.meta
    params = model.get_crds_parameters()
    keywords = {
        f.spec.keyword: params[f.spec.keyword]
        for f in keyword_fields(type(meta))
        if f.spec.keyword in params
    }
    dump = meta.model_dump(mode="json", exclude_none=True)
    provenance = {
        "ref_file": {k: v for k, v in dump["ref_file"].items() if k != "crds"},
        "cal_step": dump["cal_step"],
    }
    doc: dict[str, Any] = {"meta": keywords}
    if provenance["ref_file"] or provenance["cal_step"]:
        doc["provenance"] = {k: v for k, v in provenance.items() if v}
    for spec in model.array_specs:
        value = model.arrays().get(spec.name)
        if value is None:
            continue
        if spec.is_table:
            names = spec.numpy_dtype.names or ()
            doc[spec.name] = [{n: row[n].item() for n in names} for row in value]
        else:
            doc[spec.name] = value.tolist()
    return doc


def write_document(model: ModelLike, path: Path, fmt: str) -> None:
    """Write ``model`` as a TOML (``fmt="toml"``) or YAML document."""
    doc = _document(model)
    if fmt == "toml":
        path.write_bytes(tomli_w.dumps(doc).encode())
    else:
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def load_document(path: Path) -> dict[str, Any]:
    """Parse a TOML or YAML file (by extension) into a dict."""
    if path.suffix.lower() == ".toml":
        with path.open("rb") as stream:
            return tomllib.load(stream)
    with path.open(encoding="utf-8") as stream:
        doc = yaml.safe_load(stream)
    return doc if isinstance(doc, dict) else {}


def model_from_document(model_cls: type[ModelT], doc: dict[str, Any], name: str) -> ModelT:
    """Build a ``model_cls`` from a parsed document."""
    table = {key: (value, "") for key, value in doc.get("meta", {}).items()}
    where = {PRIMARY: f"[meta] of {name}", SCI: f"[meta] of {name}"}
    meta = meta_from_cards(model_cls.meta_class, {PRIMARY: table}, where)
    provenance = doc.get("provenance", {})
    if provenance:
        dump = meta.model_dump(mode="json", exclude_none=True)
        dump["ref_file"].update(provenance.get("ref_file", {}))
        dump["cal_step"].update(provenance.get("cal_step", {}))
        meta = model_cls.meta_class.from_mapping(dump, default_where=f"[provenance] of {name}")
    arrays: dict[str, np.ndarray] = {}
    for spec in model_cls.array_specs:
        if spec.name not in doc:
            continue
        if spec.is_table:
            names = spec.numpy_dtype.names or ()
            rows = [tuple(row[n] for n in names) for row in doc[spec.name]]
            arrays[spec.name] = np.array(rows, dtype=spec.numpy_dtype)
        else:
            arrays[spec.name] = np.array(doc[spec.name], dtype=spec.numpy_dtype)
    return model_cls(meta, **arrays)
