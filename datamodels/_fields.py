"""Field declarations: each metadata field names its FITS keyword and HDU once.

`FitsKeyword` is put in a field's ``Annotated`` metadata; `keyword_fields` walks a metadata
class (recursing into nested sections) and lists every declared keyword with its dotted path.
FITS, TOML/YAML keyword tables and `get_crds_parameters` are all derived from this walk.
`MetaBase` is the pydantic base of every metadata section: it validates on assignment and
turns pydantic's `ValidationError` into `datamodels.errors.MetadataError` naming the keyword.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from astropy.io import fits
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from datamodels.errors import MetadataError

__all__ = [
    "PRIMARY",
    "SCI",
    "FitsKeyword",
    "KeywordField",
    "KeywordValueError",
    "MetaBase",
    "fits_float",
    "keyword_fields",
    "meta_edits",
    "metadata_error",
]

#: HDU role of the primary header.
PRIMARY = "PRIMARY"
#: HDU role of the first data extension (``SCI``, or the first image of a level-0 file).
SCI = "SCI"

_HDU_NAMES = {PRIMARY: "primary header", SCI: "SCI extension header"}


@dataclass(frozen=True, slots=True)
class FitsKeyword:
    """Declare the FITS keyword of a metadata field.

    Parameters
    ----------
    keyword : str
        The FITS keyword (at most 8 characters).
    hdu : str
        `PRIMARY` or `SCI`: where the keyword is written.  Reading also looks in the other.
    comment : str
        The FITS card comment.
    aliases : tuple of str
        Other keywords read when ``keyword`` is absent (e.g. ``FILETYPE`` for ``OBSTYPE``).
    """

    keyword: str
    hdu: str = PRIMARY
    comment: str = ""
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.keyword) > 8 or self.hdu not in _HDU_NAMES:  # noqa: PLR2004
            raise ValueError(f"bad FitsKeyword({self.keyword!r}, {self.hdu!r})")


@dataclass(frozen=True, slots=True)
class KeywordField:
    """One declared keyword: its dotted path in ``meta`` and its `FitsKeyword`."""

    path: tuple[str, ...]
    spec: FitsKeyword

    @property
    def dotted(self) -> str:
        """The upper-case dotted path, e.g. ``META.INSTRUMENT.DETECTOR``."""
        return ".".join(("META", *self.path)).upper()


class KeywordValueError(ValueError):
    """Raised by cross-field validators to say which field (and value) is at fault."""

    def __init__(self, field: str, value: object, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


def _section_class(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def keyword_fields(meta_cls: type[BaseModel]) -> tuple[KeywordField, ...]:
    """List the declared keywords of a metadata class, depth first in declaration order."""
    # functools.cache's wrapper takes only what the checker proves Hashable, which a class
    # read from a model typed Any is not: this typed front keeps the callers' types.
    return _keyword_fields(meta_cls)


@functools.cache
def _keyword_fields(meta_cls: type[BaseModel]) -> tuple[KeywordField, ...]:
    found: list[KeywordField] = []
    for name, info in meta_cls.model_fields.items():
        spec = next((m for m in info.metadata if isinstance(m, FitsKeyword)), None)
        if spec is not None:
            found.append(KeywordField((name,), spec))
        elif (section := _section_class(info.annotation)) is not None:
            found.extend(KeywordField((name, *f.path), f.spec) for f in keyword_fields(section))
    return tuple(found)


def fits_float(value: float) -> float:
    """Round ``value`` to what a FITS card holds, so that FITS round trips are exact."""
    card = fits.Card("X", float(value))
    return float(fits.Card.fromstring(card.image).value)


def _describe(loc: tuple[Any, ...], meta_cls: type[BaseModel]) -> str:
    by_path = {f.path: f.spec.keyword for f in keyword_fields(meta_cls)}
    path = tuple(str(p) for p in loc)
    return by_path.get(path) or ".".join(("meta", *path))


def metadata_error(
    exc: ValidationError,
    meta_cls: type[BaseModel],
    where: Mapping[tuple[str, ...], str] | None = None,
    default_where: str = "in memory",
) -> MetadataError:
    """Turn a pydantic `ValidationError` into a `MetadataError` naming keyword, value, place.

    Parameters
    ----------
    exc : pydantic.ValidationError
        The error of validating ``meta_cls`` (or assigning one of its fields).
    meta_cls : type
        The metadata class validated; maps error locations to FITS keywords.
    where : mapping, optional
        Dotted path → where the value came from (e.g. ``"primary header of a.fits"``).
    default_where : str
        Used for paths not in ``where``.
    """
    where = where or {}
    messages: list[str] = []
    first: tuple[str, object, str] | None = None
    for error in exc.errors():
        loc = tuple(str(p) for p in error["loc"])
        value: object = error.get("input")
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, KeywordValueError):
            loc = (*loc, cause.field)
            value = cause.value
        keyword = _describe(loc, meta_cls)
        place = where.get(loc, default_where)
        if error["type"] == "missing":
            text = f"{keyword} is missing ({place}); it is required"
            allowed = "a value"
        else:
            reason = str(cause) if cause is not None else error["msg"]
            text = f"{keyword}={value!r} ({place}) {reason}"
            allowed = reason.partition("allowed: ")[2] or reason
        messages.append(text)
        first = first or (keyword, value, allowed)
    if first is None:
        return MetadataError("; ".join(messages))
    keyword, value, allowed = first
    return MetadataError("; ".join(messages), keyword=keyword, value=value, allowed=allowed)


_EDITS = [0]


def meta_edits() -> int:
    """How many metadata assignments (or deletions) this process has made so far.

    Every `MetaBase` assignment counts, on any model; a value computed from metadata stays
    valid while this number does not change (`DataModel.get_crds_parameters` keeps its
    result so). Nested models are built with pydantic's own validation, not assignment.
    """
    return _EDITS[0]


class MetaBase(BaseModel):
    """Base of every metadata section: validated on assignment, errors name the keyword."""

    model_config = ConfigDict(
        validate_assignment=True,
        extra="forbid",
        str_strip_whitespace=True,
        allow_inf_nan=False,
        coerce_numbers_to_str=True,
        use_enum_values=False,
    )

    @field_validator("*", mode="after")
    @classmethod
    def _fits_text(cls, value: Any) -> Any:
        if isinstance(value, str) and not (value.isascii() and value.isprintable()):
            raise ValueError("is not printable ASCII; allowed: characters a FITS header holds")
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        _EDITS[0] += 1
        saved = dict(self.__dict__)
        extra = dict(self.__pydantic_extra__) if self.__pydantic_extra__ is not None else None
        try:
            super().__setattr__(name, value)
        except ValidationError as exc:
            # pydantic may have stored the value before a model validator refused it
            self.__dict__.clear()
            self.__dict__.update(saved)
            current_extra = self.__pydantic_extra__
            if extra is not None and current_extra is not None:
                current_extra.clear()
                current_extra.update(extra)
            raise metadata_error(exc, type(self), default_where="assigned in memory") from None

    def __delattr__(self, name: str) -> None:
        _EDITS[0] += 1
        super().__delattr__(name)

    @classmethod
    def from_mapping(
        cls,
        data: Mapping[str, Any],
        where: Mapping[tuple[str, ...], str] | None = None,
        default_where: str = "in memory",
    ) -> Self:
        """Validate a nested mapping, raising `MetadataError` rather than pydantic's error."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise metadata_error(exc, cls, where, default_where) from None
