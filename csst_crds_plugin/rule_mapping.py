"""What every mapping kind shares: the loader it needs, its header and its source.

``context.py`` builds the pmap, imap and rmap classes on :class:`RuleMapping`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from csst_crds_plugin.errors import RuleValidationError
from csst_crds_plugin.rules import DictNode, MappingIR
from csst_crds_plugin.rules.ir import REQUIRED_HEADER_FIELDS

__all__ = ["LoaderLike", "RuleMapping", "tupled"]


class LoaderLike(Protocol):
    """What a mapping needs from the loader that built it (`csst_crds_plugin.loader`).

    ``load(name)`` the mapping, once per process; ``exists(name)``; ``describe()`` where
    mappings come from, for messages; ``name_of(path)`` the basename of a mapping path.
    """

    def load(self, name: str) -> RuleMapping:
        """Return mapping `name`, loaded once per process."""

    def exists(self, name: str) -> bool:
        """Tell whether mapping `name` is present."""

    def describe(self) -> str:
        """Say where the mappings come from, for messages."""

    def name_of(self, path: str) -> str:
        """Return the basename of a mapping path."""


def _normalise_header(raw: Mapping[Any, Any]) -> dict[str, Any]:
    header: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and not (value.startswith("(") and value.endswith(")")):
            value = value.lower()
        header[str(key)] = value
    return header


def tupled(value: object) -> tuple[Any, ...]:
    """Return a tuple or list value as a tuple, and any other value as a 1-tuple."""
    if isinstance(value, (tuple, list)):
        return tuple(value)
    return (value,)


class RuleMapping:
    """What every mapping kind shares: name, header, source path."""

    kind = ""

    def __init__(self, ir: MappingIR, loader: LoaderLike) -> None:
        self.ir = ir
        self.path = ir.path
        self.raw_header = ir.header_dict()
        self.header = _normalise_header(self.raw_header)
        self.loader = loader
        self.name = loader.name_of(ir.path)
        self.observatory = str(self.header.get("observatory", "")).lower()
        for field in REQUIRED_HEADER_FIELDS[self.kind]:
            if field not in self.header:
                raise RuleValidationError(
                    f"{self.path}: header field {field!r} is missing; a {self.kind} mapping "
                    f"needs {', '.join(REQUIRED_HEADER_FIELDS[self.kind])}"
                )
        self.parkey = self.header["parkey"]

    def _entries(self) -> list[tuple[Any, Any]]:
        if not isinstance(self.ir.selector, DictNode):
            raise RuleValidationError(
                f"{self.path}: a {self.kind} mapping's selector must be a dict, "
                f"not {self.ir.selector.name}(...)"
            )
        return list(self.ir.selector.as_dict().items())

    def __repr__(self) -> str:
        """Name the class and the mapping, e.g. ``ReferenceMapping('csst_msc_bias_0001.rmap')``."""
        return f"{type(self).__name__}({self.name!r})"
