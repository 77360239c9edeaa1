"""What one difference between two reference files is, and how arrays and values compare."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["FileChange", "array_text", "compare_arrays", "jsonable", "same_scalar"]


@dataclass(frozen=True, slots=True)
class FileChange:
    """One difference between two reference files.

    ``where`` locates it (``HDU 1 (SCI)``, ``HDU 2 (TABLE) row 3``, a key path, ``file``);
    ``what`` is ``keyword``, ``hdu``, ``data``, ``column``, ``row``, ``value`` or ``file``.
    """

    where: str
    what: str
    action: str
    key: str | None = None
    old: Any = None
    new: Any = None
    detail: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        """Render the change as one line of the report."""
        label = f"{self.what} {self.key}" if self.key is not None else self.what
        if self.detail.get("text"):
            return f"{self.where}: {label}: {self.detail['text']}"
        if self.action == "added":
            return f"{self.where}: {label} added: {self.new!r}"
        if self.action == "deleted":
            return f"{self.where}: {label} deleted (was {self.old!r})"
        return f"{self.where}: {label} changed: {self.old!r} -> {self.new!r}"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        detail = {k: v for k, v in self.detail.items() if k != "text"}
        return {"type": self.what, "where": self.where, "action": self.action, "key": self.key,
                "old": jsonable(self.old), "new": jsonable(self.new), "detail": detail,
                "text": str(self)}


def jsonable(value: Any) -> Any:
    """Return `value` in a form JSON can hold (arrays and odd floats as text)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, np.ndarray):
        return f"<array shape={value.shape} dtype={value.dtype}>"
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def same_scalar(a: Any, b: Any) -> bool:
    """Tell whether two scalars count as equal (NaN equals NaN; a bool never equals a number)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b) and (isinstance(a, bool) or isinstance(b, bool)):
        return False
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return repr(a) == repr(b)


def _dtype_name(dtype: np.dtype[Any]) -> str:
    return dtype.name if dtype.kind in "biufc" else str(dtype.newbyteorder("="))


def compare_arrays(old: Any, new: Any) -> dict[str, Any] | None:
    """None if equal; else what differs: shape, dtype, differing count, largest |difference|."""
    a, b = np.asarray(old), np.asarray(new)
    found: dict[str, Any] = {}
    names = (_dtype_name(a.dtype), _dtype_name(b.dtype))
    if names[0] != names[1]:  # byte order alone is no difference
        found["dtype"] = names
    if a.shape != b.shape:
        found["shape"] = (list(a.shape), list(b.shape))
        return found
    numeric = a.dtype.kind in "biufc" and b.dtype.kind in "biufc"
    if numeric:
        both_nan = np.isnan(a) & np.isnan(b) if a.dtype.kind in "fc" and b.dtype.kind in "fc" \
            else np.zeros(a.shape, dtype=bool)
        differs = (a != b) & ~both_nan
    else:
        differs = np.asarray(a != b)
    count = int(np.count_nonzero(differs))
    if count:
        found["differing"] = count
        found["total"] = int(a.size)
        if numeric and a.dtype.kind != "b" and b.dtype.kind != "b":
            delta = np.abs(a[differs].astype(np.complex128 if "c" in a.dtype.kind + b.dtype.kind
                                              else np.float64) - b[differs])
            finite = delta[np.isfinite(delta)]
            found["max_abs_diff"] = float(finite.max()) if finite.size else float("nan")
    return found or None


def array_text(found: dict[str, Any], unit: str = "values") -> str:
    """Describe an array difference found by `compare_arrays` in one line."""
    parts = []
    if "shape" in found:
        parts.append(f"shape {tuple(found['shape'][0])} -> {tuple(found['shape'][1])}")
    if "dtype" in found:
        parts.append(f"dtype {found['dtype'][0]} -> {found['dtype'][1]}")
    if "differing" in found:
        text = f"{found['differing']} of {found['total']} {unit} differ"
        if "max_abs_diff" in found:
            text += f", max abs difference {found['max_abs_diff']:.6g}"
        parts.append(text)
    return "; ".join(parts)
