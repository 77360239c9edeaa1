"""Two CSST-shaped contexts that differ in a few rmaps, and catalogues of datasets for them.

``csst_0001.pmap`` → ``csst_0002.pmap``:

* MSC imap 0001 → 0002: bias gets ten more daily FAST entries and one replaced file; flat gets
  a new rule for chip 08 and loses the rule for chip 13 (other chips: N/A from a catch-all
  rule). gain, fringe (N/A) and crosstalk (OMIT) are unchanged.
* MCI: the same imap in both (never looked up). CPIC: N/A in both.
* IFS: new in 0002, with bias and ``mask``, which an ``rmap_omit`` expression omits for FAST
  readout.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from csst_crds_plugin.rules import set_sha1sum

OLD, NEW = "csst_0001.pmap", "csst_0002.pmap"
MSC_CHIPS = {"06": "y", "08": "g", "13": "NUV", "14": "u", "01": "GI", "03": "GU"}
DAY0 = dt.datetime(2027, 1, 1)


def _header(kind: str, name: str, extra: dict[str, str]) -> str:
    fields = {"derived_from": "'generated'", "mapping": repr(kind), "name": repr(name),
              "observatory": "'CSST'", "sha1sum": "''", **extra}
    return "header = {\n" + "".join(f"    {k!r} : {v},\n" for k, v in sorted(fields.items())) \
        + "}\n\n"


def _dict(entries: dict[str, str]) -> str:
    return "{\n" + "".join(f"    {k!r} : {v!r},\n" for k, v in entries.items()) + "}\n"


def _pmap(name: str, entries: dict[str, str]) -> str:
    return _header("PIPELINE", name, {"parkey": "('INSTRUME',)"}) + "selector = " + \
        _dict(entries)


def _imap(name: str, instrument: str, entries: dict[str, str]) -> str:
    return _header("INSTRUMENT", name, {"instrument": repr(instrument),
                                        "parkey": "('REFTYPE',)"}) + "selector = " + \
        _dict(entries)


def _rmap(name: str, instrument: str, filekind: str, parkey: tuple[str, ...],
          rules: dict[tuple[str, ...], dict[str, str]], extra: dict[str, str] | None = None
          ) -> str:
    head = _header("REFERENCE", name, {
        "instrument": repr(instrument), "filekind": repr(filekind.upper()),
        "parkey": repr((parkey, ("DATE-OBS", "TIME-OBS"))), **(extra or {})})
    body = ["selector = Match({\n"]
    for key, dates in rules.items():
        body.append(f"    {key!r} : UseAfter({{\n")
        body.extend(f"        {d!r} : {f!r},\n" for d, f in sorted(dates.items()))
        body.append("    }),\n")
    body.append("})\n")
    return head + "".join(body)


def _days(first: int, last: int, stem: str) -> dict[str, str]:
    return {f"{DAY0 + dt.timedelta(days=d):%Y-%m-%d} 00:00:00": f"{stem}_{d:03d}.fits"
            for d in range(first, last + 1)}


def _bias(version: int) -> dict[tuple[str, ...], dict[str, str]]:
    rules: dict[tuple[str, ...], dict[str, str]] = {}
    for chip in MSC_CHIPS:
        daily = _days(0, 29 if version == 1 else 39, f"csst_msc_bias_{chip}")
        if version == 2 and chip == "06":
            daily["2027-01-15 00:00:00"] = "csst_msc_bias_06_014_redo.fits"
        rules[(chip, "FAST")] = daily
        rules[(chip, "*")] = {"2026-12-01 00:00:00": f"csst_msc_bias_{chip}_any.fits"}
    return rules


def _flat(version: int) -> dict[tuple[str, ...], dict[str, str]]:
    rules = {(chip, band): dict(list(_days(0, 60, f"csst_msc_flat_{chip}").items())[::10])
             for chip, band in MSC_CHIPS.items() if chip != "08"}
    if version == 2:
        del rules[("13", "NUV")]
        rules[("08", "g")] = {"2027-01-20 00:00:00": "csst_msc_flat_08_new.fits"}
    rules[("*", "*")] = {"2026-12-30 00:00:00": "N/A"}
    return rules


def write_contexts(root: Path) -> Path:
    """Write the cache of both contexts under `root` and return it."""
    files = {
        OLD: _pmap(OLD, {"MSC": "csst_msc_0001.imap", "MCI": "csst_mci_0001.imap",
                         "CPIC": "N/A"}),
        NEW: _pmap(NEW, {"MSC": "csst_msc_0002.imap", "MCI": "csst_mci_0001.imap",
                         "IFS": "csst_ifs_0001.imap", "CPIC": "N/A"}),
        "csst_msc_0001.imap": _imap("csst_msc_0001.imap", "MSC", {
            "bias": "csst_msc_bias_0001.rmap", "flat": "csst_msc_flat_0001.rmap",
            "gain": "csst_msc_gain_0001.rmap", "fringe": "N/A", "crosstalk": "OMIT"}),
        "csst_msc_0002.imap": _imap("csst_msc_0002.imap", "MSC", {
            "bias": "csst_msc_bias_0002.rmap", "flat": "csst_msc_flat_0002.rmap",
            "gain": "csst_msc_gain_0001.rmap", "fringe": "N/A", "crosstalk": "OMIT"}),
        "csst_msc_bias_0001.rmap": _rmap("csst_msc_bias_0001.rmap", "MSC", "bias",
                                         ("DETECTOR", "READMODE"), _bias(1)),
        "csst_msc_bias_0002.rmap": _rmap("csst_msc_bias_0002.rmap", "MSC", "bias",
                                         ("DETECTOR", "READMODE"), _bias(2)),
        "csst_msc_flat_0001.rmap": _rmap("csst_msc_flat_0001.rmap", "MSC", "flat",
                                         ("DETECTOR", "FILTER"), _flat(1)),
        "csst_msc_flat_0002.rmap": _rmap("csst_msc_flat_0002.rmap", "MSC", "flat",
                                         ("DETECTOR", "FILTER"), _flat(2)),
        "csst_msc_gain_0001.rmap": _rmap("csst_msc_gain_0001.rmap", "MSC", "gain",
                                         ("DETECTOR",), {("*",): _days(0, 0, "gain")}),
        "csst_ifs_mask_0001.rmap": _rmap(
            "csst_ifs_mask_0001.rmap", "IFS", "mask", ("DETECTOR", "READMODE"),
            {("IFS", "*"): _days(5, 5, "ifs_mask")},
            {"rmap_omit": repr('(READMODE == "FAST")')}),
        "csst_mci_0001.imap": _imap("csst_mci_0001.imap", "MCI",
                                    {"bias": "csst_mci_bias_0001.rmap"}),
        "csst_mci_bias_0001.rmap": _rmap("csst_mci_bias_0001.rmap", "MCI", "bias",
                                         ("DETECTOR",), {(c,): _days(0, 9, f"mci_{c}")
                                                         for c in ("C1", "C2", "C3")}),
        "csst_ifs_0001.imap": _imap("csst_ifs_0001.imap", "IFS",
                                    {"bias": "csst_ifs_bias_0001.rmap",
                                     "mask": "csst_ifs_mask_0001.rmap"}),
        "csst_ifs_bias_0001.rmap": _rmap("csst_ifs_bias_0001.rmap", "IFS", "bias",
                                         ("DETECTOR",), {("IFS",): _days(0, 0, "ifs")}),
    }
    folder = root / "mappings" / "csst"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(set_sha1sum(text), encoding="utf-8")
    config = root / "config" / "csst"
    config.mkdir(parents=True, exist_ok=True)
    (config / "server_config").write_text(
        "{'observatory': 'csst', 'operational_context': 'csst_0002.pmap'}\n", encoding="utf-8")
    return root


def make_rows(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Datasets over the contexts' dates, with typed values, missing keys and bad values."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    instruments = ["MSC"] * 16 + ["MCI", "MCI", "IFS", "CPIC", "XYZ", "msc", None]
    for _ in range(count):
        instrument = rng.choice(instruments)
        when = DAY0 + dt.timedelta(seconds=rng.randrange(-5 * 86400, 55 * 86400))
        time = f"{when:%H:%M:%S}" + (f".{rng.randrange(1000):03d}" if rng.random() < 0.3
                                     else "")
        row: dict[str, Any] = {"INSTRUME": instrument, "DATE-OBS": f"{when:%Y-%m-%d}",
                               "TIME-OBS": time,
                               "EXPTIME": rng.choice([150, 150.0, 30.5, "150"])}
        if instrument in ("MCI",):
            chip = rng.choice(["C1", "C2", "C3"])
            row.update(DETECTOR=chip, FILTER="F275W")
        elif instrument == "IFS":
            row.update(DETECTOR="IFS", READMODE=rng.choice(["FAST", "NORMAL"]))
        else:
            chip = rng.choice([*MSC_CHIPS] * 8 + ["07"])
            row.update(DETECTOR=chip, FILTER=MSC_CHIPS.get(chip, "i"),
                       READMODE=rng.choice(["FAST", "FAST", "NORMAL", "fast"]))
        for key in list(row):
            if rng.random() < 0.01:
                del row[key]
        rows.append({k: v for k, v in row.items() if v is not None})
    return rows


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    """One ``{"id": "ds<n>", ...}`` object per line."""
    with path.open("w", encoding="utf-8") as stream:
        for number, row in enumerate(rows):
            stream.write(json.dumps({"id": f"ds{number:06d}", **row}) + "\n")
    return path


@pytest.fixture(scope="session")
def contexts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the cache holding csst_0001.pmap and csst_0002.pmap (read-only for every test)."""
    return write_contexts(tmp_path_factory.mktemp("affected") / "cache")


@pytest.fixture(scope="session")
def rows_maker() -> Callable[..., list[dict[str, Any]]]:
    """make_rows, as a fixture (test modules cannot import this file)."""
    return make_rows


@pytest.fixture(scope="session")
def jsonl_writer() -> Callable[[Path, list[dict[str, Any]]], Path]:
    """write_jsonl, as a fixture."""
    return write_jsonl
