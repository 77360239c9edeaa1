"""Errors and warnings of the CSST data models, all under one root.

`DataModelError` (a `ValueError`) is the root of every error the data models raise;
`DataModelWarning` (a `UserWarning`) is the root of every warning.
"""

from __future__ import annotations

__all__ = [
    "ArrayError",
    "DataModelError",
    "DataModelWarning",
    "MetadataError",
    "MetadataWarning",
    "UnknownModelError",
]


class DataModelError(ValueError):
    """Root of every error raised by `datamodels`."""


class MetadataError(DataModelError):
    """A metadata value is missing or invalid; names the keyword, the value and what is allowed.

    Parameters
    ----------
    message : str
        The full message.
    keyword : str, optional
        The FITS keyword (or dotted meta path) at fault.
    value : object, optional
        The offending value.
    allowed : str, optional
        A description of the allowed values.
    """

    def __init__(
        self,
        message: str,
        *,
        keyword: str | None = None,
        value: object = None,
        allowed: str | None = None,
    ) -> None:
        super().__init__(message)
        self.keyword = keyword
        self.value = value
        self.allowed = allowed


class ArrayError(DataModelError):
    """An array has the wrong dtype, dimensionality or shape, or a required array is missing."""


class UnknownModelError(DataModelError):
    """`datamodels.open` cannot tell which model class a file or object holds."""


class DataModelWarning(UserWarning):
    """Root of every warning issued by `datamodels`."""


class MetadataWarning(DataModelWarning):
    """A metadata value is suspicious but usable (e.g. not in an unconfirmed CSST table)."""
