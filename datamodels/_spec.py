"""What the file formats know of a model: its array declarations and a `ModelLike` protocol.

The bottom of the package's I/O. The readers and writers (`datamodels._fits`,
`datamodels._asdf`, `datamodels._text`) are written against `ModelLike`, so they never import
`datamodels._base`; the model base imports the writers (for ``save``) and `datamodels._io`
imports both (for ``open``). Imports go one way::

    _spec  ←  _blocks, _fits, _asdf, _text  ←  _formats  ←  _base  ←  models, _rows, _io
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, Self, TypeVar

import numpy as np

from datamodels.meta import MetaCommon

__all__ = ["ArraySpec", "ModelLike", "ModelT"]


@dataclass(frozen=True, slots=True)
class ArraySpec:
    """One array of a model.

    Parameters
    ----------
    name : str
        Attribute name (``data``, ``err``, ``dq``, ...).
    extname : str
        FITS extension name (``SCI``, ``ERR``, ``DQ``, ...).
    dtype : str
        Numpy dtype; a list of ``(field, dtype)`` pairs makes a table (FITS binary table).
    required : bool
        Whether saving needs it.
    fill : float or None
        For an optional image: when unset, reading it creates an array of this value with
        the shape of the first array (e.g. ``dq`` of zeros).
    shape : tuple or None
        A fixed shape (e.g. ``(16, 16)``); ``None`` means "same shape as the first array".
    role : str or None
        `SCI` for the array whose HDU carries the SCI-role keywords.
    """

    name: str
    extname: str
    dtype: Any
    required: bool = True
    fill: float | None = None
    shape: tuple[int, ...] | None = None
    role: str | None = None

    @property
    def numpy_dtype(self) -> np.dtype:
        """The numpy dtype."""
        dtype: np.dtype = np.dtype(self.dtype)
        return dtype

    @property
    def is_table(self) -> bool:
        """Whether the array is a structured table."""
        return self.numpy_dtype.names is not None


class ModelLike(Protocol):
    """The part of `datamodels.DataModel` that reading and writing files uses.

    A writer reads ``meta``, ``array_specs``, ``arrays()``, ``extra_fits`` and (for the text
    formats) ``get_crds_parameters()``; a reader builds an instance of a class with
    ``meta_class`` and either the constructor or ``_from_parts`` (arrays loaded on first use).
    """

    meta_class: ClassVar[type[MetaCommon]]
    array_specs: ClassVar[tuple[ArraySpec, ...]]
    text_formats: ClassVar[tuple[str, ...]]
    extra_fits: dict[str, list[tuple[str, Any, str]]]

    def __init__(self, meta: MetaCommon | dict[str, Any] | None = None,
                 **arrays: Any) -> None: ...

    @property
    def meta(self) -> Any:
        """The metadata (a pydantic model)."""

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array present, by attribute name."""

    def get_crds_parameters(self) -> dict[str, str | int | float | bool]:
        """Return the flat selection parameters, keyed by FITS keyword and dotted meta path."""

    @classmethod
    def _from_parts(
        cls,
        meta: MetaCommon,
        loader: Callable[[ArraySpec], np.ndarray | None] | None,
        closer: Callable[[], None] | None,
        row_source: Callable[[ArraySpec], Any] | None = None,
    ) -> Self:
        """Make a model whose arrays ``loader`` reads on first use; ``closer`` releases the file."""


#: A model class a reader builds: `read_fits` given ``ImageModel`` returns an ``ImageModel``.
ModelT = TypeVar("ModelT", bound=ModelLike)
