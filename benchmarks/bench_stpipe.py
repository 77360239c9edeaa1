"""Warm per-call cost of ``step.get_reference_file(model, "dark")`` inside a step.

Run ``python benchmarks/bench_stpipe.py`` (about 20 s; ``--quick`` for fewer calls; needs the
CRDS library: ``pip install -e '.[bench]'``). One temporary cache holds equivalent rules for
two observatories: a CSST dark rmap (Match on DETECTOR, READMODE; UseAfter on DATE-OBS,
TIME-OBS) and a Roman one of the same shape (the ``ROMAN.META.*`` keywords), 10 detectors x
2 modes x 365 daily darks each. Three steps look up the dark of 16 exposures in turn:

- ``csst_dark`` (`steps.DarkStep`) on CSST `datamodels.ImageModel` exposures: this package's
  whole path, including ``get_crds_parameters()`` of the data model (computed once per
  metadata state), and beside it the provider's own ``get_reference_file`` on the same
  parameters (no step), with the ratio of the two;
- a `ProviderStep` on Roman-shaped models (a plain dict of parameters): the same engine on
  the Roman rules;
- a plain stpipe ``Step`` on the same Roman-shaped models: stpipe's default path,
  ``crds_client.get_reference_file`` -> ``crds.getreferences`` (CRDS offline, local mode).

Each selected reference is recorded in the cache's manifest, so that every lookup checks it
(size, and SHA-256 once per file state). "warm" is the best of three batches after a first call
that loads the rules; "first call" is that first lookup (rules loaded from the files). Figures
only: no test asserts timings.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from csst_crds_plugin.rules import set_sha1sum

DETECTORS = 10
MODES = ("NORMAL", "FAST")
DAYS = 365
CASES = 16


def _header(**fields: object) -> str:
    return "header = {\n" + "".join(f"    {k!r} : {v!r},\n" for k, v in sorted(fields.items())) \
        + "}\n\n"


def _date(day: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(time.mktime((2027, 1, 1 + day, 0, 0, 0, 0, 0,
                                                                0)) - time.timezone))


def write_rules(root: Path, obs: str, instrument: str, keys: tuple[str, ...]) -> None:
    """Write pmap -> imap -> dark rmap of DETECTORS x MODES rules with DAYS UseAfter dates each."""
    name_key, detector_key, mode_key, date_key, time_key = keys
    mappings = root / "mappings" / obs
    mappings.mkdir(parents=True)
    prefix = f"{obs}_{instrument.lower()}"
    texts = {
        f"{obs}_0001.pmap": _header(derived_from="bench", mapping="PIPELINE",
                                    name=f"{obs}_0001.pmap", observatory=obs.upper(),
                                    parkey=(name_key,), sha1sum="0")
        + f"selector = {{\n    {instrument!r} : '{prefix}_0001.imap',\n}}\n",
        f"{prefix}_0001.imap": _header(derived_from="bench", instrument=instrument,
                                       mapping="INSTRUMENT", name=f"{prefix}_0001.imap",
                                       observatory=obs.upper(), parkey=("REFTYPE",), sha1sum="0")
        + f"selector = {{\n    'dark' : '{prefix}_dark_0001.rmap',\n}}\n",
    }
    body = []
    for detector in range(1, DETECTORS + 1):
        for mode in MODES:
            body.append(f"    ('{_detector(obs, detector)}', '{mode}') : UseAfter({{\n")
            body.extend(f"        '{_date(day)} 00:00:00' : "
                        f"'{_reference(obs, instrument, detector, mode, day)}',\n"
                        for day in range(DAYS))
            body.append("    }),\n")
    texts[f"{prefix}_dark_0001.rmap"] = _header(
        derived_from="bench", filekind="DARK", instrument=instrument, mapping="REFERENCE",
        name=f"{prefix}_dark_0001.rmap", observatory=obs.upper(),
        parkey=((detector_key, mode_key), (date_key, time_key)), sha1sum="0",
    ) + "selector = Match({\n" + "".join(body) + "})\n"
    for name, text in texts.items():
        (mappings / name).write_text(set_sha1sum(text), encoding="utf-8")
    config = root / "config" / obs
    config.mkdir(parents=True)
    (config / "server_config").write_text(repr({
        "observatory": obs, "operational_context": f"{obs}_0001.pmap",
        "edit_context": f"{obs}_0001.pmap", "latest_context": f"{obs}_0001.pmap",
        "versions_context": f"{obs}_0001.pmap", "bad_files": "", "bad_files_list": [],
        "force_remote_mode": False, "last_synced": "2027-01-01 00:00:00", "mappings": [],
        "reference_url": "file:///nonexistent", "mapping_url": "file:///nonexistent",
        "crds_version": {"str": "14.0.3"},
    }), encoding="utf-8")
    (config / "bad_files.txt").write_text("", encoding="utf-8")


def _detector(obs: str, number: int) -> str:
    return f"{number:02d}" if obs == "csst" else f"WFI{number:02d}"


def _reference(obs: str, instrument: str, detector: int, mode: str, day: int) -> str:
    return f"{obs}_{instrument.lower()}_dark_d{detector:02d}{mode[0].lower()}_{day:04d}.fits"


def cases() -> list[tuple[int, str, int]]:
    """(detector, mode, day) of the exposures, spread over the rules and the year."""
    return [(1 + (7 * i) % DETECTORS, MODES[i % 2], (37 * i + 5) % DAYS) for i in range(CASES)]


def place_references(root: Path, obs: str, instrument: str) -> None:
    """Write the (placeholder) files the cases select, in the instrument folder.

    They are recorded in the cache's manifest as a sync records them, so that a lookup checks
    each selected file against its entry, as in a real cache.
    """
    folder = root / "references" / obs / instrument.lower()
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for detector, mode, day in cases():
        name = _reference(obs, instrument, detector, mode, day)
        data = name.encode().ljust(2880, b"\0")
        (folder / name).write_bytes(data)
        entries.append(f'  "{name}": {{"sha256": "{hashlib.sha256(data).hexdigest()}", '
                       f'"size": {len(data)}}}')
    (root / "config" / obs / "manifest.json").write_text(
        "{\n" + ",\n".join(sorted(set(entries))) + "\n}\n", encoding="utf-8")


def csst_models() -> list[Any]:
    """CSST level-1 images for the cases (10:00 on the day of the selected dark)."""
    import datamodels

    return [datamodels.ImageModel({
        "observation": {"date": _date(day), "time": "10:00:00"},
        "exposure": {"type": "SCI", "exptime": 150.0},
        "instrument": {"name": "MSC", "detector": f"{detector:02d}", "readmode": mode},
    }) for detector, mode, day in cases()]


class RomanLike:
    """A minimal stpipe data model of Roman shape: observatory plus flat parameters."""

    crds_observatory = "roman"

    def __init__(self, parameters: dict[str, str]) -> None:
        self.parameters = parameters

    def get_crds_parameters(self) -> dict[str, str]:
        """Return a copy of the parameters (as data models build a fresh dict)."""
        return dict(self.parameters)

    def save(self, path: str) -> None:
        """Not used."""


def roman_models() -> list[RomanLike]:
    """Roman-shaped models for the same cases."""
    return [RomanLike({
        "ROMAN.META.INSTRUMENT.NAME": "WFI", "ROMAN.META.INSTRUMENT.DETECTOR": f"WFI{d:02d}",
        "ROMAN.META.EXPOSURE.MA_TABLE_NAME": mode, "ROMAN.META.OBSERVATION.DATE": _date(day),
        "ROMAN.META.OBSERVATION.TIME": "10:00:00",
    }) for d, mode, day in cases()]


def measure(step: Any, models: list[Any], calls: int) -> tuple[float, float, list[str]]:
    """(first call s, warm µs per call, the paths of the first round) for one step."""
    start = time.perf_counter()
    first = step.get_reference_file(models[0], "dark")
    first_s = time.perf_counter() - start
    paths = [Path(first).name] + [Path(step.get_reference_file(m, "dark")).name
                                  for m in models[1:]]
    best = float("inf")
    for _ in range(3):
        step._reference_files_used = []
        start = time.perf_counter()
        for index in range(calls):
            step.get_reference_file(models[index % len(models)], "dark")
        best = min(best, (time.perf_counter() - start) / calls)
    step._reference_files_used = []
    return first_s, best * 1e6, paths


def measure_provider(models: list[Any], calls: int) -> tuple[float, float, list[str]]:
    """Time the provider's own ``get_reference_file`` on the models' parameters (no step)."""
    from csst_crds_plugin.stpipe_integration import get_provider

    provider = get_provider("csst")
    parameters = [model.get_crds_parameters() for model in models]
    start = time.perf_counter()
    first = provider.get_reference_file(parameters[0], "dark")
    first_s = time.perf_counter() - start
    paths = [Path(first).name] + [Path(provider.get_reference_file(p, "dark")).name
                                  for p in parameters[1:]]
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for index in range(calls):
            provider.get_reference_file(parameters[index % len(parameters)], "dark")
        best = min(best, (time.perf_counter() - start) / calls)
    return first_s, best * 1e6, paths


def timed(label: str, action: Callable[[], tuple[float, float, list[str]]]
          ) -> tuple[float, float, list[str]]:
    """Run `action`, print its first and warm times under `label`, and return them."""
    result = action()
    print(f"# {label}: first {result[0] * 1000:.1f} ms, warm {result[1]:.1f} us/call",
          flush=True)
    return result


def main() -> int:
    """Run the step benchmark and print its figures; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls")
    options = parser.parse_args()
    calls = 500 if options.quick else 4000
    root = Path(tempfile.mkdtemp(prefix="bench_stpipe_"))
    try:
        write_rules(root, "csst", "MSC", ("INSTRUME", "DETECTOR", "READMODE", "DATE-OBS",
                                          "TIME-OBS"))
        write_rules(root, "roman", "WFI", (
            "ROMAN.META.INSTRUMENT.NAME", "ROMAN.META.INSTRUMENT.DETECTOR",
            "ROMAN.META.EXPOSURE.MA_TABLE_NAME", "ROMAN.META.OBSERVATION.DATE",
            "ROMAN.META.OBSERVATION.TIME"))
        place_references(root, "csst", "MSC")
        place_references(root, "roman", "WFI")
        # lookups remember a verified file only once it is older than the 2 s timestamp
        # window (a real cache's references are); files just written are hashed every time
        time.sleep(2.5)
        os.environ.update(CSST_CRDS_PATH=str(root), CRDS_PATH=str(root), CRDS_MODE="local",
                          CRDS_SERVER_URL="https://serverless-mode.invalid")
        for name in ("CSST_CRDS_CONTEXT", "CRDS_CONTEXT"):
            os.environ.pop(name, None)
        from stpipe import Step

        from csst_crds_plugin.stpipe_integration import ProviderStep
        from steps import DarkStep

        class RomanProviderStep(ProviderStep):
            spec = "output_ext = string(default='.asdf')"
            reference_file_types: ClassVar[list[str]] = ["dark"]

        class RomanCrdsStep(Step):
            spec = "output_ext = string(default='.asdf')"
            reference_file_types: ClassVar[list[str]] = ["dark"]

        csst, roman = csst_models(), roman_models()
        start = time.perf_counter()
        for model in csst:
            model.get_crds_parameters()
        params_us = (time.perf_counter() - start) / len(csst) * 1e6
        start = time.perf_counter()
        for model in csst:
            model.get_crds_parameters()
        again_us = (time.perf_counter() - start) / len(csst) * 1e6
        print(f"# rules: {DETECTORS} detectors x {len(MODES)} modes x {DAYS} days per "
              f"observatory; {CASES} exposures; {calls} warm calls per batch", flush=True)
        ours = timed("csst_dark on CSST rules", lambda: measure(DarkStep(), csst, calls))
        provider = timed("provider alone on CSST rules", lambda: measure_provider(csst, calls))
        for _ in range(4):  # alternate, so that both see the same load on a shared machine
            again = measure(DarkStep(), csst, calls)  # its first call is warm: keep the first
            ours = (ours[0], min(ours[1], again[1]), ours[2])
            again = measure_provider(csst, calls)
            provider = (provider[0], min(provider[1], again[1]), provider[2])
        same = timed("ProviderStep on Roman rules",
                     lambda: measure(RomanProviderStep(), roman, calls))
        crds = timed("stpipe default (CRDS) on Roman rules",
                     lambda: measure(RomanCrdsStep(), roman, calls))
        agree = [a.replace("csst_msc", "x") for a in ours[2]] == \
            [c.replace("roman_wfi", "x") for c in crds[2]] and same[2] == crds[2]
        _table(ours, same, crds, (params_us, again_us), agree)
        print(f"csst_dark inside a step / the provider's own lookup (best of 5 alternating "
              f"batches each): {ours[1]:.1f} / {provider[1]:.1f} us = "
              f"{ours[1] / provider[1]:.2f}x")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


def _table(ours: tuple[float, float, list[str]], same: tuple[float, float, list[str]],
           crds: tuple[float, float, list[str]], params_us: tuple[float, float],
           agree: bool) -> None:
    from importlib.metadata import version

    print(f"\nget_reference_file inside a step (stpipe {version('stpipe')}, "
          f"CRDS {version('crds')}):")
    header = f"{'path':52} {'first call':>11} {'warm/call':>11} {'vs CRDS':>8}"
    print(header)
    print("-" * len(header))
    rows = (("csst_dark -> provider, CSST rules (CSST data model)", ours),
            ("ProviderStep -> provider, Roman rules", same),
            ("stpipe Step -> crds.getreferences, Roman rules", crds))
    for label, (first, warm, _) in rows:
        print(f"{label:52} {first * 1000:>8.1f} ms {warm:>8.1f} us {crds[1] / warm:>7.1f}x")
    print(f"(CSST ImageModel.get_crds_parameters(): {params_us[0]:.1f} us on a new metadata "
          f"state, {params_us[1]:.1f} us again on the same)")
    print(f"same selections for the {CASES} exposures on both paths: {agree}")


if __name__ == "__main__":
    sys.exit(main())
