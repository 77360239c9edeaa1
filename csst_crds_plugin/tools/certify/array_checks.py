"""Array checks of a reference: presence, dtype, shape, table columns, NaN policy."""

from __future__ import annotations

from csst_crds_plugin.tools.certify.constraints import ArrayRule, Constraints
from csst_crds_plugin.tools.certify.readers import ArrayInfo, ReferenceContent
from csst_crds_plugin.tools.certify.report import FileReport

__all__ = ["check_arrays"]


def check_arrays(report: FileReport, content: ReferenceContent, constraints: Constraints) -> None:
    """Check the arrays the constraints name; data are read only for the NaN policy."""
    arrays: dict[str, ArrayInfo] = {}
    for name, found in content.arrays.items():
        arrays.setdefault(constraints.array_aliases.get(name, name), found)
    for name, rule in constraints.arrays.items():
        info = arrays.get(name)
        if info is None:
            if rule.presence == "required":
                report.error(f"array {name} is required for {constraints.instrument} "
                             f"{constraints.reftype} references but missing")
            continue
        for problem in _problems(name, info, rule, arrays):
            report.error(f"array {name}: {problem}")


def _problems(name: str, info: ArrayInfo, rule: ArrayRule,
              arrays: dict[str, ArrayInfo]) -> list[str]:
    if rule.kind == "table":
        if info.kind != "table":
            return ["must be a table (rows of named columns)"]
        missing = [c for c in rule.columns if c not in info.columns]
        return [f"table column(s) {', '.join(missing)} missing"] if missing else []
    if info.kind == "table" or info.dtype.kind == "O":
        return ["must be a regular numeric array"]
    problems = []
    if rule.dtypes and info.dtype.name not in rule.dtypes:
        problems.append(f"dtype {info.dtype.name} is not allowed; use {', '.join(rule.dtypes)}")
    if rule.ndim is not None and len(info.shape) != rule.ndim:
        problems.append(f"has {len(info.shape)} dimension(s), {rule.ndim} required")
    if rule.shape is not None and info.shape != tuple(rule.shape):
        problems.append(f"shape {info.shape} must be {tuple(rule.shape)}")
    if rule.max_shape is not None and (
        len(info.shape) != len(rule.max_shape)
        or any(n > limit for n, limit in zip(info.shape, rule.max_shape, strict=True))
    ):
        problems.append(f"shape {info.shape} exceeds {tuple(rule.max_shape)}")
    if rule.same_shape_as:
        other = arrays.get(rule.same_shape_as)
        if other is not None and other.shape != info.shape:
            problems.append(f"shape {info.shape} differs from {rule.same_shape_as} "
                            f"{other.shape}")
    if not rule.nan and info.dtype.kind in "fc":
        count = info.count_nan()
        if count:
            problems.append(f"holds {count} NaN value(s); NaN is not allowed here")
    return problems
