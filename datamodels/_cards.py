"""Metadata ↔ keyword cards, shared by the FITS, TOML and YAML formats.

A *card table* maps an HDU role (`PRIMARY`, `SCI`) to ``{keyword: (value, comment)}``.
`meta_to_cards` walks the declared keywords of a metadata class and adds the provenance
cards; `meta_from_cards` reads them back, looking for each keyword (then its aliases) in
its declared HDU first and in the other one next, so that files that put e.g. ``DETECTOR``
in the primary header (C5-era MSC) or in the image extension both read.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, TypeVar

from astropy.io import fits

from datamodels._fields import PRIMARY, SCI, MetaBase, keyword_fields
from datamodels.provenance import provenance_cards, provenance_from_cards

_Meta = TypeVar("_Meta", bound=MetaBase)  # the metadata class read is the one returned

__all__ = [
    "CardTable",
    "get_path",
    "header_cards",
    "meta_from_cards",
    "meta_to_cards",
]

CardTable = dict[str, dict[str, tuple[Any, str]]]
_OTHER = {PRIMARY: SCI, SCI: PRIMARY}


def get_path(meta: MetaBase, path: tuple[str, ...]) -> Any:
    """Return the value at a dotted ``path`` of ``meta``."""
    value: Any = meta
    for name in path:
        value = getattr(value, name)
    return value


def _scalar(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def meta_to_cards(meta: MetaBase) -> dict[str, list[tuple[str, Any, str]]]:
    """Render ``meta`` as ``{role: [(keyword, value, comment), ...]}``, skipping ``None``."""
    cards: dict[str, list[tuple[str, Any, str]]] = {PRIMARY: [], SCI: []}
    for field in keyword_fields(type(meta)):
        value = get_path(meta, field.path)
        if value is not None:
            cards[field.spec.hdu].append((field.spec.keyword, _scalar(value), field.spec.comment))
    ref_file = getattr(meta, "ref_file", None)
    cal_step = getattr(meta, "cal_step", None)
    if ref_file is not None and cal_step is not None:
        cards[PRIMARY].extend(provenance_cards(ref_file, cal_step))
    return cards


def header_cards(header: fits.Header) -> dict[str, tuple[Any, str]]:
    """Return ``{keyword: (value, comment)}`` of a FITS header (undefined values as ``None``)."""
    table: dict[str, tuple[Any, str]] = {}
    for card in header.cards:
        keyword = card.keyword
        if not keyword or keyword in ("COMMENT", "HISTORY") or keyword in table:
            continue
        value = card.value
        table[keyword] = (None if isinstance(value, fits.card.Undefined) else value, card.comment)
    return table


def _put(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for name in path[:-1]:
        data = data.setdefault(name, {})
    data[path[-1]] = value


def meta_from_cards(
    meta_cls: type[_Meta],
    cards: Mapping[str, Mapping[str, tuple[Any, str]]],
    where: Mapping[str, str],
) -> _Meta:
    """Validate ``meta_cls`` from a card table.

    Parameters
    ----------
    meta_cls : type
        The metadata class to build.
    cards : mapping
        ``{role: {keyword: (value, comment)}}``; a missing role counts as empty.
    where : mapping
        ``{role: description}``, e.g. ``{"PRIMARY": "primary header of a.fits"}``, used
        in error messages.

    Raises
    ------
    datamodels.errors.MetadataError
        Naming the keyword, the value, where it came from and what is allowed.
    """
    data: dict[str, Any] = {}
    sources: dict[tuple[str, ...], str] = {}
    for field in keyword_fields(meta_cls):
        sources[field.path] = where[field.spec.hdu]
        for role in (field.spec.hdu, _OTHER[field.spec.hdu]):
            table = cards.get(role, {})
            keyword = next(
                (k for k in (field.spec.keyword, *field.spec.aliases) if k in table), None
            )
            if keyword is not None and table[keyword][0] is not None:
                _put(data, field.path, table[keyword][0])
                sources[field.path] = where[role]
                break
    if "ref_file" in meta_cls.model_fields:
        ref_file, cal_step = provenance_from_cards(cards.get(PRIMARY, {}), where[PRIMARY])
        data.setdefault("ref_file", {}).update(ref_file)
        data["cal_step"] = cal_step
    return meta_cls.from_mapping(data, sources, default_where=where[PRIMARY])
