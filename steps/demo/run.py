"""Build the demo cache through deliveries, simulate an exposure, run ``csst_level1`` on it."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np
from astropy.io import fits

import datamodels
from csst_crds_plugin import ReferenceProvider
from csst_crds_plugin.errors import ConfigurationError
from csst_crds_plugin.tools.delivery import add_reference_types, deliver
from csst_crds_plugin.tools.matches import matches
from steps.demo.references import CHIPS, DAYS, SHAPE, daily_references, toolkit_references

__all__ = ["DemoResult", "run_demo"]

MARKER = ".csst-crds-demo"
CHIP, DAY, TIME, EXPTIME = "06", DAYS[1], "10:00:00", 150.0
STEP_TYPES = (("dq_init", "mask"), ("dq_init", "saturation"), ("bias", "bias"),
              ("gain", "gain"), ("dark", "dark"), ("flat", "flat"))
_DATE = ("DATE-OBS", "TIME-OBS")
PARKEYS = {"msc:saturation": (("DETECTOR",), _DATE), "ifs:arc": (("DETECTOR",), _DATE)}
TYPES = ("msc:bias", "msc:dark", "msc:flat", "msc:gain", "msc:readnoise", "msc:mask",
         "msc:saturation", "msc:crosstalk", "ifs:arc")


@dataclass
class DemoResult:
    """What the demo built and ran."""

    directory: Path
    cache: Path
    context: str
    exposure: Path
    output: Path
    deliveries: list[str] = field(default_factory=list)
    references: dict[str, str] = field(default_factory=dict)
    """reftype → the file the run used (as recorded in the output's R_<TYPE>)."""
    provenance: dict[str, str] = field(default_factory=dict)


def _say(out: TextIO, text: str) -> None:
    print(text, file=out, flush=True)  # flushed: a later error on stderr comes after it


def prepare(directory: Path) -> Path:
    """Prepare an empty demo folder; refuse to clear a folder the demo did not make."""
    if directory.exists() and any(directory.iterdir()):
        if not (directory / MARKER).exists():
            raise ConfigurationError(
                f"{directory} exists and is not a demo folder; give `--dir` an empty or new "
                "folder (the demo replaces only folders it made itself)")
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).write_text("made by `csst-crds demo`; safe to delete\n", "utf-8")
    return directory


def build_cache(root: Path, out: TextIO, *, days: Sequence[str] = DAYS,
                chips: Mapping[str, str] = CHIPS, shape: tuple[int, int] = SHAPE
                ) -> tuple[Path, list[str]]:
    """Publish the rules for every demo type, then deliver the files day by day.

    `days`, `chips` and `shape` are the demo's unless given (a benchmark builds one chip at
    full size the same way).
    """
    cache, inbox = root / "cache", root / "submissions"
    contexts: list[str] = []
    added = add_reference_types(cache, TYPES, parkeys=PARKEYS,
                                description="demo: rules for nine reference types")
    if added.context is not None:  # None only if the cache had every type already
        contexts.append(added.context)
    toolkit = deliver(cache, toolkit_references(inbox / "toolkit", shape, chips),
                      description="demo: gain, readnoise, mask, saturation, crosstalk, arc")
    contexts.append(toolkit.context)
    _say(out, f"  delivered {len(toolkit.names):2d} toolkit files           -> {toolkit.context}")
    for day in days:
        names: dict[str, dict[str, str]] = {}
        for reftype, deps in (("bias", ()), ("dark", ("bias",)), ("flat", ("bias", "dark"))):
            files = daily_references(inbox / day, reftype, day,
                                     {dep: names[dep] for dep in deps}, shape, chips)
            last = day == days[-1] and reftype == "flat"
            result = deliver(cache, files, description=f"demo: {reftype} of {day}",
                             activate=last)
            by_path = {Path(k).name: v for k, v in result.names.items()}
            names[reftype] = {chip: by_path[path.name] for chip, path in zip(chips, files,
                                                                             strict=True)}
            contexts.append(result.context)
            _say(out, f"  delivered {len(files):2d} {reftype:4s} files of {day}      -> "
                  f"{result.context}{' (made operational)' if last else ''}")
    return cache, contexts


def simulate_exposure(folder: Path, chip: str = CHIP, shape: tuple[int, int] = SHAPE,
                      obsid: str = "10100300001") -> Path:
    """Write a level-0 MSC exposure of `chip`: sky + bias + dark current, Poisson noise, a star."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20270102)
    electrons = rng.poisson(800.0 + 0.02 * EXPTIME, shape).astype(float)
    electrons[120:124, 120:124] += 40000.0  # a bright star, saturating
    data = 100.0 + electrons / 1.5 + rng.normal(0.0, 5.0, shape)
    model = datamodels.RawModel({
        "observation": {"obsid": obsid, "date": DAY, "time": TIME},
        "exposure": {"type": "SCI", "exptime": EXPTIME},
        "instrument": {"name": "MSC", "detector": chip, "filter": CHIPS[chip],
                       "readmode": "NORMAL"},
    }, data=np.clip(data, 0, 65535).astype(np.uint16))
    return Path(model.save(folder / f"CSST_MSC_MS_SCIE_{DAY.replace('-', '')}100000_"
                                    f"{obsid}_{chip}_L0.fits"))


@contextlib.contextmanager
def _cache_environment(cache: Path) -> Iterator[None]:
    """As a user would run strun: CSST_CRDS_PATH set, no pinned context."""
    from csst_crds_plugin.stpipe_integration import clear_providers

    names = ("CSST_CRDS_PATH", "CSST_CRDS_CONTEXT", "CRDS_CONTEXT")
    saved = {name: os.environ.pop(name, None) for name in names}
    os.environ["CSST_CRDS_PATH"] = str(cache)
    clear_providers()
    try:
        yield
    finally:
        clear_providers()
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value


def run_pipeline(raw: Path, output_dir: Path, log_level: str = "WARNING") -> Path:
    """``strun csst_level1 RAW --output_dir DIR``, in this process, exactly as strun parses it."""
    from stpipe import Step

    output_dir.mkdir(parents=True, exist_ok=True)
    before = set(output_dir.iterdir())
    step = Step.from_cmdline(["csst_level1", str(raw), "--output_dir", str(output_dir),
                              "--log-level", log_level])
    del step
    written = sorted(set(output_dir.iterdir()) - before)
    fits_files = [p for p in written if p.suffix == ".fits"]
    if len(fits_files) != 1:
        raise ConfigurationError(f"the pipeline wrote {written} in {output_dir}; expected one "
                                 "level-1 FITS file")
    return fits_files[0]


def run_demo(directory: str | Path, out: TextIO, log_level: str = "WARNING") -> DemoResult:
    """Run the whole demo; print what happens to `out` and return what it built.

    `log_level` is the pipeline's (strun's ``--log-level``): INFO shows every step's log.
    """
    began = time.perf_counter()
    root = prepare(Path(directory).resolve())
    _say(out, f"csst-crds demo in {root}\n\n1. A serverless cache, filled through deliveries "
          "(certify, unique names, rules, new context)")
    cache, contexts = build_cache(root, out)
    provider = ReferenceProvider(cache=cache)
    references = sum(1 for p in (cache / "references").rglob("*") if p.is_file())
    mappings = sum(1 for p in (cache / "mappings").rglob("*map"))
    _say(out, f"  cache {cache}: {references} references, {mappings} mapping files, "
          f"{len(contexts)} contexts; operational context {provider.context}")

    raw = simulate_exposure(root / "exposure")
    _say(out, f"\n2. A level-0 exposure: {raw.name}\n  MSC chip {CHIP} ({CHIPS[CHIP]}), "
          f"{DAY} {TIME}, EXPTIME {EXPTIME:g} s, {SHAPE[0]}x{SHAPE[1]} pixels")

    _say(out, f"\n3. strun csst_level1 {raw.name} --output_dir output")
    with _cache_environment(cache):
        output = run_pipeline(raw, root / "output", log_level)
    result = DemoResult(root, cache, provider.context, raw, output, contexts,
                        references_used(output), read_provenance(output))
    print_references(result, out)
    print_provenance(result, out)
    _say(out, f"\nDone in {time.perf_counter() - began:.1f} s. Next: see the README; e.g.\n"
          f"  CSST_CRDS_PATH={cache} strun csst_level1 {raw} --steps.dark.override_dark=N/A\n"
          f"  csst-crds explain --cache {cache} --type flat INSTRUME=MSC DETECTOR={CHIP} "
          f"FILTER={CHIPS[CHIP]} DATE-OBS={DAY} TIME-OBS={TIME}")
    return result


def references_used(path: Path) -> dict[str, str]:
    """Map reftype → file name, as the data models read the output's provenance."""
    with datamodels.open(path) as model:
        return {reftype: entry.name for reftype, entry in model.meta.ref_file
                if reftype != "crds" and entry is not None}


def read_provenance(path: Path) -> dict[str, str]:
    """CRDS_CTX, CRDS_VER and the R_/S_/STA_ keywords of a level-1 file's primary header."""
    header = fits.getheader(path, 0)
    return {key: str(header[key]) for key in header
            if key in ("CRDS_CTX", "CRDS_VER") or key.startswith(("R_", "S_", "STA_"))}


def print_references(result: DemoResult, out: TextIO) -> None:
    """Each step's reference and the rule that chose it."""
    _say(out, f"\n  {'step':8s} {'type':10s} {'reference':30s} why (rule in {result.context})")
    for step, reftype in STEP_TYPES:
        name = result.references.get(reftype, "(none)")
        why = "not applicable" if name == "N/A" else _why(result, name)
        _say(out, f"  {step:8s} {reftype:10s} {name:30s} {why}")


def _why(result: DemoResult, name: str) -> str:
    found = matches(name, cache=result.cache, context=result.context)
    if not found.matches:
        return "(no rule selects it)"
    rule = found.matches[0]
    pairs = rule.assignments()
    keys = ", ".join(f"{k}={v}" for k, v in pairs if k not in _DATE)
    date = " ".join(str(v) for k, v in pairs if k in _DATE)
    return f"{rule.rmap}: {keys}, newest UseAfter <= exposure: {date}"


def print_provenance(result: DemoResult, out: TextIO) -> None:
    """Print the output's provenance keywords, each checked against the cache."""
    _say(out, f"\n4. Output {result.output.name}: provenance in its primary header")
    for key, value in result.provenance.items():
        note = ""
        if key.startswith("R_") and value != "N/A":
            where = next((cache_file for cache_file in (result.cache / "references").rglob(value)),
                         None)
            note = "in the cache" if where else "NOT IN THE CACHE"
        elif key == "CRDS_CTX":
            note = "the operational context" if value == result.context else \
                f"NOT the operational context {result.context}"
        _say(out, f"  {key:8s} = {value:30s} {note}")
