"""Check that an output can be reproduced: the same context and references, byte for byte.

An output records (datamodels' provenance) its context ``CRDS_CTX``, each reference
``R_<TYPE>`` with its source ``S_<TYPE>`` and sha256 ``H_<TYPE>``, and how it was made
(``RUN_STEP``, ``RUN_IN``, ``RUN_HASH``, ``RUN_PARS``). `check_output` holds the cache to that
record: the context is there, every reference chosen by the rules is in the cache with the
recorded sha256 and is still what the context selects, and every override file has its
recorded sha256. `rerun` runs the same step on the same input with the same parameters under
the same context and compares the new output with the old one, bit for bit.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csst_crds_plugin.cache import CacheLayout, digest_file
from csst_crds_plugin.errors import CsstCrdsError

__all__ = ["OutputRecord", "check_output", "compare_outputs", "read_record", "rerun"]

_NA = "N/A"


@dataclass
class OutputRecord:
    """What an output says about how it was made."""

    path: Path
    context: str | None
    references: dict[str, dict[str, Any]] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)


def _from_fits(path: Path) -> OutputRecord:
    from astropy.io import fits

    header = fits.getheader(path, 0)
    record = OutputRecord(path, header.get("CRDS_CTX"))
    for keyword in header:
        found = re.fullmatch(r"R_([A-Z0-9]{1,6})", keyword)
        if found is None:
            continue
        abbr = found.group(1)
        words = header.comments[keyword].split()
        reftype = words[0] if len(words) == 2 and words[1] == "reference" else abbr.lower()
        record.references[reftype] = {"name": header[keyword], "source": header.get(f"S_{abbr}"),
                                      "checksum": header.get(f"H_{abbr}")}
    record.run = {key: header.get(f"RUN_{word}") for key, word in (
        ("step", "STEP"), ("input", "IN"), ("input_checksum", "HASH"),
        ("parameters", "PARS"))}
    return record


def _from_asdf(path: Path) -> OutputRecord:
    import asdf

    with asdf.open(path, lazy_load=True, memmap=False) as handle:
        meta = dict(handle.tree.get("meta") or {})
    ref_file = dict(meta.get("ref_file") or {})
    crds = dict(ref_file.pop("crds", None) or {})
    record = OutputRecord(path, crds.get("context_used"))
    record.references = {k: dict(v) for k, v in ref_file.items() if isinstance(v, dict)}
    record.run = dict(meta.get("run") or {})
    return record


def read_record(path: str | Path) -> OutputRecord:
    """The provenance of a FITS or ASDF output."""
    path = Path(path)
    try:
        record = _from_asdf(path) if path.suffix.lower() == ".asdf" else _from_fits(path)
    except (OSError, ValueError, KeyError) as exc:
        raise CsstCrdsError(f"{path}: cannot read its provenance: {exc}") from exc
    if not record.context:
        raise CsstCrdsError(f"{path}: records no context (CRDS_CTX); it was not made through "
                            "the reference provider")
    return record


def _sha256(path: Path) -> str:
    return "sha256:" + digest_file(path).sha256


def check_output(record: OutputRecord, layout: CacheLayout) -> list[str]:
    """Every way the cache fails to hold exactly the files `record` names (empty: it does)."""
    from csst_crds_plugin.provider import ReferenceProvider

    problems = []
    context = str(record.context)
    if not layout.has_mapping(context):
        return [f"{context}: the context is not in the cache {layout.root}"]
    rules = {t: e for t, e in record.references.items() if e.get("source") == "rule"}
    selected: dict[str, Any] = {}
    if rules:
        from csst_crds_plugin.tools.affected.scan import scan_file

        try:
            provider = ReferenceProvider(cache=layout.root, context=context,
                                         observatory=layout.observatory)
            parameters = scan_file(record.path)
            selected = provider.best_references(parameters, list(rules), errors="collect")
        except CsstCrdsError as exc:
            problems.append(f"{context}: cannot select again: {str(exc).splitlines()[0]}")
    for reftype, entry in sorted(record.references.items()):
        name, checksum = str(entry.get("name")), entry.get("checksum")
        if entry.get("source") == "rule":
            path = layout.find_reference(name)
            chosen = selected.get(reftype)
            if chosen is not None and chosen.ok and chosen.files() != [name]:
                problems.append(f"{name} ({reftype}): {context} now selects "
                                f"{', '.join(chosen.files()) or 'N/A'}")
        elif entry.get("source") == "override" and name != _NA:
            path = Path(name) if Path(name).is_file() else None
        else:
            continue
        if path is None:
            problems.append(f"{name} ({reftype}): missing")
        elif not checksum:
            problems.append(f"{name} ({reftype}): the output records no sha256 (H_ keyword); "
                            "it cannot be checked")
        elif _sha256(path) != checksum:
            problems.append(f"{name} ({reftype}): differs from the file used (sha256 "
                            f"{_sha256(path)[7:23]}..., recorded {str(checksum)[7:23]}...)")
    return problems


def _arrays(node: Any, where: str = "") -> dict[str, Any]:
    """Every array of an ASDF tree by its path; and the provenance (``meta.ref_file``)."""
    import numpy as np

    found: dict[str, Any] = {}
    if isinstance(node, dict):
        for key, value in node.items():
            if where == "" and key in ("asdf_library", "history"):
                continue
            found.update(_arrays(value, f"{where}/{key}"))
    elif isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            found.update(_arrays(value, f"{where}/{index}"))
    elif hasattr(node, "shape") and hasattr(node, "dtype"):
        found[where] = np.asarray(node)
    elif where.startswith(("/meta/ref_file", "/meta/cal_step")):
        found[where] = node
    return found


def _compare_asdf(old: Path, new: Path) -> list[str]:
    import asdf
    import numpy as np

    with asdf.open(old, memmap=False) as a, asdf.open(new, memmap=False) as b:
        left, right = _arrays(a.tree), _arrays(b.tree)
        differences = [f"{key}: only in one output" for key in sorted(left.keys() ^ right.keys())]
        for key in sorted(left.keys() & right.keys()):
            x, y = left[key], right[key]
            same = np.array_equal(x, y, equal_nan=x.dtype.kind in "fc") \
                if isinstance(x, np.ndarray) and isinstance(y, np.ndarray) else x == y
            if not same:
                differences.append(f"{key}: differs")
    return differences


def compare_outputs(old: Path, new: Path) -> list[str]:
    """How two outputs differ: data bit for bit, provenance keywords (empty: identical)."""
    import numpy as np
    from astropy.io import fits

    if old.suffix.lower() == ".asdf":
        return _compare_asdf(old, new)
    differences = []
    with fits.open(old) as a, fits.open(new) as b:
        names_a, names_b = [h.name for h in a], [h.name for h in b]
        if names_a != names_b:
            return [f"extensions differ: {names_a} vs {names_b}"]
        keys = [k for k in a[0].header if re.match(r"(R|S|H|STA)_|CRDS_CTX$", k)]
        for key in keys:
            if a[0].header.get(key) != b[0].header.get(key):
                differences.append(f"{key}: {a[0].header.get(key)!r} -> "
                                   f"{b[0].header.get(key)!r}")
        for hdu_a, hdu_b in zip(a, b, strict=True):
            if hdu_a.data is None and hdu_b.data is None:
                continue
            if hdu_a.data is None or hdu_b.data is None or \
                    hdu_a.data.shape != hdu_b.data.shape or \
                    not np.array_equal(hdu_a.data, hdu_b.data, equal_nan=True):
                differences.append(f"{hdu_a.name}: the data differ")
    return differences


def _step_class(alias: str) -> Any:
    from importlib.metadata import entry_points

    from stpipe.utilities import import_class

    for point in entry_points(group="stpipe.steps"):
        for class_name, class_alias, _ in point.load()():
            if class_alias == alias or class_name == alias:
                return import_class(class_name)
    raise CsstCrdsError(f"no stpipe step or pipeline is named {alias!r} (RUN_STEP); install "
                        "the package that provides it")


def rerun(record: OutputRecord, layout: CacheLayout) -> tuple[Path, list[str]]:
    """Run the recorded step again under the recorded context; (new output, differences)."""
    from csst_crds_plugin.settings import settings_context
    from csst_crds_plugin.stpipe_integration import clear_providers

    run = record.run
    if not run.get("step") or not run.get("parameters"):
        raise CsstCrdsError(f"{record.path}: records no step and parameters (RUN_STEP, "
                            "RUN_PARS); it cannot be re-run")
    source = Path(str(run.get("input") or ""))
    if not source.is_file():
        raise CsstCrdsError(f"{record.path}: the input {source} is not there to re-run on")
    if run.get("input_checksum") and _sha256(source) != run["input_checksum"]:
        raise CsstCrdsError(f"the input {source} differs from the one used (sha256 "
                            f"{_sha256(source)[7:23]}..., recorded "
                            f"{str(run['input_checksum'])[7:23]}...)")
    parameters = json.loads(run["parameters"])
    folder = Path(tempfile.mkdtemp(prefix="csst-crds-rerun-"))
    parameters.update(output_dir=str(folder), save_results=True)
    with settings_context(cache_root=layout.root, context=record.context):
        clear_providers()
        try:
            _step_class(str(run["step"])).call(str(source), **parameters)
        except ValueError as exc:  # the step refused its input or a reference
            raise CsstCrdsError(f"{record.path}: re-running {run['step']} stopped: "
                                f"{type(exc).__name__}: {exc}") from exc
        finally:
            clear_providers()
    made = sorted(folder.glob(record.path.name)) or sorted(folder.iterdir())
    if len(made) != 1:
        raise CsstCrdsError(f"the re-run wrote {len(made)} files in {folder}, not one output")
    return made[0], compare_outputs(record.path, made[0])
