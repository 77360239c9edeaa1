"""`DataModel`: metadata plus lazily loaded arrays, following stpipe's data-model protocol.

stpipe recognises a data model by duck typing (`stpipe.datamodel.AbstractDataModel` checks
for ``crds_observatory``, ``get_crds_parameters`` and ``save``), so this package never imports
stpipe nor the engine.
"""

from __future__ import annotations

import copy as _copy
import enum
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from datamodels._cards import get_path
from datamodels._fields import keyword_fields, meta_edits
from datamodels._formats import write_model
from datamodels._spec import ArraySpec
from datamodels.errors import ArrayError, DataModelError, MetadataWarning
from datamodels.meta import MetaCommon
from datamodels.provenance import iter_dotted

__all__ = ["DataModel", "model_class", "model_classes"]

_REGISTRY: dict[str, type[DataModel]] = {}


def model_class(name: str) -> type[DataModel]:
    """Return the registered model class called ``name``."""
    return _REGISTRY[name]


def model_classes() -> dict[str, type[DataModel]]:
    """Return ``{class name: class}`` of every registered model."""
    return dict(_REGISTRY)


def _array_property(spec: ArraySpec) -> property:
    def getter(self: DataModel) -> np.ndarray | None:
        return self._get_array(spec)

    def setter(self: DataModel, value: Any) -> None:
        self._set_array(spec, value)

    return property(getter, setter, doc=f"The {spec.extname} array ({spec.numpy_dtype}).")


class DataModel:
    """Base of every CSST data model: ``meta`` (pydantic) plus numpy arrays.

    Parameters
    ----------
    meta : MetaCommon or mapping, optional
        The metadata (validated); a mapping is validated into ``meta_class``.
    **arrays : numpy.ndarray
        Arrays by attribute name (see ``array_specs``).
    """

    crds_observatory: ClassVar[str] = "csst"
    meta_class: ClassVar[type[MetaCommon]] = MetaCommon
    array_specs: ClassVar[tuple[ArraySpec, ...]] = ()
    #: Formats besides FITS and ASDF (``"toml"``, ``"yaml"``).
    text_formats: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__name__ in _REGISTRY:
            raise TypeError(f"a data model called {cls.__name__} is already registered")
        if cls.array_specs:
            _REGISTRY[cls.__name__] = cls
        for spec in cls.array_specs:
            setattr(cls, spec.name, _array_property(spec))

    def __init__(self, meta: MetaCommon | dict[str, Any] | None = None, **arrays: Any) -> None:
        if isinstance(meta, MetaCommon):
            if not isinstance(meta, self.meta_class):
                raise DataModelError(f"{type(self).__name__} needs {self.meta_class.__name__}")
        else:
            meta = self.meta_class.from_mapping(meta or {})
        self._meta = meta
        self._arrays: dict[str, np.ndarray | None] = {}
        self._loader: Callable[[ArraySpec], np.ndarray | None] | None = None
        self._closer: Callable[[], None] | None = None
        #: For arrays still in their file: where their rows lie (see `iter_row_blocks`).
        self._row_source: Callable[[ArraySpec], Any] | None = None
        self._crds_parameters: tuple[int, Any, dict[str, Any]] | None = None
        #: Header cards a file had beyond the metadata (WCS, GAIN1, ...), by HDU role
        #: (``"PRIMARY"``, ``"SCI"``): written back to FITS and kept in ASDF.
        self.extra_fits: dict[str, list[tuple[str, Any, str]]] = {}
        self._check_meta()
        names = {spec.name for spec in self.array_specs}
        for name, value in arrays.items():
            if name not in names:
                raise ArrayError(
                    f"{type(self).__name__} has no array {name!r}; has {sorted(names)}"
                )
            setattr(self, name, value)

    # -- construction from files (used by the readers) -------------------------------------
    @classmethod
    def _from_parts(
        cls,
        meta: MetaCommon,
        loader: Callable[[ArraySpec], np.ndarray | None] | None,
        closer: Callable[[], None] | None,
        row_source: Callable[[ArraySpec], Any] | None = None,
    ) -> Self:
        model = cls(meta)
        model._loader = loader
        model._closer = closer
        model._row_source = row_source
        return model

    def _check_meta(self) -> None:
        """Hook for subclasses: check metadata that depends on the class."""
        self._meta.model_type = type(self).__name__

    # -- arrays ------------------------------------------------------------------------------
    def _get_array(self, spec: ArraySpec) -> np.ndarray | None:
        if spec.name not in self._arrays and self._loader is not None:
            self._arrays[spec.name] = self._loader(spec)
        value = self._arrays.get(spec.name)
        if value is None and spec.fill is not None and spec is not self.array_specs[0]:
            first = self._get_array(self.array_specs[0])
            if first is not None:
                value = (np.zeros(first.shape, spec.numpy_dtype) if spec.fill == 0 else
                         np.full(first.shape, spec.fill, dtype=spec.numpy_dtype))
                self._arrays[spec.name] = value
        return value

    def _set_array(self, spec: ArraySpec, value: Any) -> None:
        if value is None:
            self._arrays[spec.name] = None
            return
        array = np.asanyarray(value)
        if array.dtype != spec.numpy_dtype:
            if spec.is_table or not np.can_cast(array.dtype, spec.numpy_dtype, "same_kind"):
                raise ArrayError(
                    f"{type(self).__name__}.{spec.name} must be {spec.numpy_dtype}; "
                    f"got {array.dtype}, which cannot be cast without changing its kind"
                )
            array = array.astype(spec.numpy_dtype)
        ndim = 1 if spec.is_table else len(spec.shape or (0, 0))
        if array.ndim != ndim or (spec.shape is not None and array.shape != spec.shape):
            wanted = spec.shape or f"{ndim} dimensions"
            raise ArrayError(
                f"{type(self).__name__}.{spec.name} must have shape {wanted}; got {array.shape}"
            )
        self._arrays[spec.name] = array

    def arrays(self) -> dict[str, np.ndarray]:
        """Return ``{name: array}`` of every array present (loading them)."""
        found = {spec.name: self._get_array(spec) for spec in self.array_specs}
        return {name: value for name, value in found.items() if value is not None}

    def validate(self) -> None:
        """Check that required arrays exist and images share a shape; warn on gaps."""
        shape: tuple[int, ...] | None = None
        for spec in self.array_specs:
            value = self._get_array(spec)
            if value is None:
                if spec.required:
                    raise ArrayError(
                        f"{type(self).__name__}.{spec.name} ({spec.extname}) is missing"
                    )
                continue
            if spec.shape is None and not spec.is_table:
                if shape is not None and value.shape != shape:
                    raise ArrayError(
                        f"{type(self).__name__}.{spec.name} has shape {value.shape}, "
                        f"but the first array has {shape}"
                    )
                shape = shape or value.shape

    # -- stpipe's protocol -------------------------------------------------------------------
    @property
    def meta(self) -> Any:
        """The metadata (a pydantic model; assignments are validated)."""
        return self._meta

    @property
    def override_handle(self) -> str:
        """What stpipe records for a model passed as ``override_<reftype>``."""
        return f"override://{self._meta.filename or type(self).__name__}"

    def get_crds_parameters(self) -> dict[str, str | int | float | bool]:
        """Return the flat selection parameters.

        Keys are the FITS keywords of every declared field (``INSTRUME``, ``DETECTOR``,
        ``FILTER``, ``READMODE``, ``DATE-OBS``, ``TIME-OBS``, ``OBSTYPE``, ``EXPTIME``, …) and
        the upper-case dotted meta paths (``META.INSTRUMENT.DETECTOR``, …).  Values are
        normalised scalars; missing values are omitted, never ``None``. Computed once per
        metadata state: kept until any metadata assignment (`meta_edits` changes), and a new
        dict is returned on each call.
        """
        edits = meta_edits()
        cached = self._crds_parameters
        if cached is not None and cached[0] == edits and cached[1] is self._meta:
            return dict(cached[2])
        params: dict[str, str | int | float | bool] = {}
        for field in keyword_fields(type(self._meta)):
            value = get_path(self._meta, field.path)
            if value is not None:
                params[field.spec.keyword] = value.value if isinstance(value, enum.Enum) else value
        params.update(iter_dotted("META", self._meta.model_dump(mode="json")))
        self._crds_parameters = (edits, self._meta, params)
        return dict(params)

    def save(
        self,
        path: str | Path | Callable[[str | None], str],
        dir_path: str | Path | None = None,
        *,
        overwrite: bool = True,
        **kwargs: Any,
    ) -> str:
        """Write the model; the format follows the extension (.fits, .asdf, .toml, .yaml).

        Parameters
        ----------
        path : str, Path or callable
            Output path; a callable gets ``meta.filename`` and returns the path (stpipe).
        dir_path : str or Path, optional
            Directory that replaces the directory of ``path``.
        overwrite : bool
            Replace an existing file.
        **kwargs
            Ignored; accepted for stpipe compatibility.

        Returns
        -------
        str
            The path written.  ``meta.filename`` becomes its base name.
        """
        target = Path(path(self._meta.filename) if callable(path) else path)
        if dir_path is not None:
            target = Path(dir_path) / target.name
        if target.exists() and not overwrite:
            raise FileExistsError(f"{target} exists; pass overwrite=True to replace it")
        self.validate()
        self._meta.filename = target.name
        write_model(self, target)
        return str(target)

    def copy(self, deep: bool = True) -> Self:
        """Return a copy: deep (arrays and metadata copied) or shallow (both shared)."""
        if not deep:
            clone = _copy.copy(self)
            clone._closer = None
            return clone
        clone = type(self)(self._meta.model_copy(deep=True))
        clone.extra_fits = {role: list(cards) for role, cards in self.extra_fits.items()}
        for name, value in self.arrays().items():
            clone._arrays[name] = np.array(value, copy=True)
        return clone

    def close(self) -> None:
        """Release the file behind lazily loaded arrays.

        Arrays already read stay valid; reading another one afterwards raises
        `DataModelError` (read what you need, or take a `copy`, before closing).
        """
        closer, self._closer = self._closer, None
        if closer is not None:
            self._row_source = None
            if self._loader is not None:
                self._loader = _closed_loader(type(self).__name__)
            closer()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        names = ", ".join(spec.name for spec in self.array_specs)
        return f"<{type(self).__name__} {self._meta.filename or '(unsaved)'} [{names}]>"

    # -- test factories ----------------------------------------------------------------------
    @classmethod
    def _minimal_meta(cls) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def _fake_meta(cls) -> dict[str, Any]:
        return cls._minimal_meta()

    @classmethod
    def create_minimal(cls, shape: tuple[int, ...] = (1, 1)) -> Self:
        """A model with the required metadata only and required arrays of zeros."""
        model = cls(cls._minimal_meta())
        for spec in cls.array_specs:
            if spec.required:
                setattr(model, spec.name, _zeros(spec, shape))
        return model

    @classmethod
    def create_fake_data(cls, shape: tuple[int, ...] = (4, 4), seed: int = 0) -> Self:
        """A model with every metadata group filled and every array holding random values."""
        rng = np.random.default_rng(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("error", MetadataWarning)
            model = cls(cls._fake_meta())
        for spec in cls.array_specs:
            setattr(model, spec.name, _random(spec, shape, rng))
        return model


def _closed_loader(name: str) -> Callable[[ArraySpec], np.ndarray | None]:
    def load(spec: ArraySpec) -> np.ndarray | None:
        raise DataModelError(
            f"{name} was closed before its {spec.name} array was read; "
            "read arrays (or take a copy) before closing"
        )

    return load


def _zeros(spec: ArraySpec, shape: tuple[int, ...]) -> np.ndarray:
    if spec.is_table:
        return np.zeros(1, dtype=spec.numpy_dtype)
    return np.zeros(spec.shape or shape, dtype=spec.numpy_dtype)


def _random(spec: ArraySpec, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    dtype = spec.numpy_dtype
    if spec.is_table:
        table = np.zeros(max(shape[0], 1), dtype=dtype)
        for name in dtype.names or ():
            kind = dtype[name].kind
            n = len(table)
            table[name] = rng.uniform(300, 1000, n) if kind == "f" else [f"X{i}" for i in range(n)]
        return table
    size = spec.shape or shape
    if dtype.kind == "f":
        return rng.normal(1.0, 0.1, size).astype(dtype)
    return rng.integers(0, np.iinfo(dtype).max, size, dtype=dtype, endpoint=True)
