"""Fixtures for the rule tools: mapping texts with correct checksums, and a two-context cache."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from csst_crds_plugin.rules import set_sha1sum

BIAS_PARKEY = "(('DETECTOR', 'READMODE'), ('DATE-OBS', 'TIME-OBS'))"


def rmap(name: str, selector: str, *, parkey: str = BIAS_PARKEY, filekind: str = "BIAS",
         instrument: str = "MSC", extra: str = "", derived_from: str = "generated") -> str:
    """Return an rmap with the given selector text (``Match({...})``) and a correct sha1sum."""
    return set_sha1sum(
        "header = {\n"
        f"    'derived_from' : '{derived_from}',\n"
        f"    'filekind' : '{filekind}',\n"
        f"    'instrument' : '{instrument}',\n"
        "    'mapping' : 'REFERENCE',\n"
        f"    'name' : '{name}',\n"
        "    'observatory' : 'CSST',\n"
        f"    'parkey' : {parkey},\n"
        f"{extra}"
        "    'sha1sum' : '',\n"
        "}\n\n"
        f"selector = {selector}\n"
    )


def _dict_mapping(kind: str, name: str, entries: dict[str, str], parkey: str,
                  instrument: str | None, derived_from: str) -> str:
    body = "".join(f"    '{k}' : '{v}',\n" for k, v in entries.items())
    instr = f"    'instrument' : '{instrument}',\n" if instrument else ""
    return set_sha1sum(
        "header = {\n"
        f"    'derived_from' : '{derived_from}',\n"
        f"{instr}"
        f"    'mapping' : '{kind}',\n"
        f"    'name' : '{name}',\n"
        "    'observatory' : 'CSST',\n"
        f"    'parkey' : {parkey},\n"
        "    'sha1sum' : '',\n"
        "}\n\n"
        "selector = {\n" + body + "}\n"
    )


def imap(name: str, entries: dict[str, str], instrument: str = "MSC",
         derived_from: str = "generated") -> str:
    """Return an imap text {reftype: rmap} with a correct sha1sum."""
    return _dict_mapping("INSTRUMENT", name, entries, "('REFTYPE',)", instrument, derived_from)


def pmap(name: str, entries: dict[str, str], derived_from: str = "generated") -> str:
    """Return a pmap text {instrument: imap} with a correct sha1sum."""
    return _dict_mapping("PIPELINE", name, entries, "('INSTRUME',)", None, derived_from)


@pytest.fixture
def texts() -> SimpleNamespace:
    """Builders of mapping texts: ``texts.rmap(...)``, ``texts.imap(...)``, ``texts.pmap(...)``."""
    return SimpleNamespace(rmap=rmap, imap=imap, pmap=pmap)


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    """Write files into `folder` (created); return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


BIAS_1 = """Match({
    ('06', 'FAST') : UseAfter({
        '2027-01-01 00:00:00' : 'csst_msc_bias_0001.fits',
    }),
    ('08', 'N/A') : UseAfter({
        '2027-01-01 00:00:00' : 'csst_msc_bias_0002.fits',
    }),
})"""

BIAS_2 = """Match({
    ('06', 'FAST') : UseAfter({
        '2027-01-01 00:00:00' : 'csst_msc_bias_0001.fits',
        '2027-01-02 00:00:00' : 'csst_msc_bias_0003.fits',
    }),
    ('08', 'N/A') : UseAfter({
        '2027-01-01 00:00:00' : 'csst_msc_bias_0002.fits',
    }),
})"""

FLAT_1 = """Match({
    ('06', 'y') : UseAfter({
        '2027-01-01 00:00:00' : 'csst_msc_flat_0001.fits',
    }),
})"""

FLAT_PARKEY = "(('DETECTOR', 'FILTER'), ('DATE-OBS', 'TIME-OBS'))"


@pytest.fixture
def two_contexts(tmp_path: Path) -> Path:
    """Build a cache with csst_0001.pmap and csst_0002.pmap (operational).

    The second adds a bias for chip 06 on 2027-01-02 (bias rmap 0001 -> 0002) and a flat type;
    gain stays N/A.
    """
    root = tmp_path / "cache"
    write(root / "mappings" / "csst", {
        "csst_0001.pmap": pmap("csst_0001.pmap", {"MSC": "csst_msc_0001.imap",
                                                  "CPIC": "N/A"}),
        "csst_0002.pmap": pmap("csst_0002.pmap", {"MSC": "csst_msc_0002.imap",
                                                  "CPIC": "N/A"}, "csst_0001.pmap"),
        "csst_msc_0001.imap": imap("csst_msc_0001.imap", {
            "bias": "csst_msc_bias_0001.rmap", "gain": "N/A"}),
        "csst_msc_0002.imap": imap("csst_msc_0002.imap", {
            "bias": "csst_msc_bias_0002.rmap", "flat": "csst_msc_flat_0001.rmap",
            "gain": "N/A"}, derived_from="csst_msc_0001.imap"),
        "csst_msc_bias_0001.rmap": rmap("csst_msc_bias_0001.rmap", BIAS_1),
        "csst_msc_bias_0002.rmap": rmap("csst_msc_bias_0002.rmap", BIAS_2,
                                        derived_from="csst_msc_bias_0001.rmap"),
        "csst_msc_flat_0001.rmap": rmap("csst_msc_flat_0001.rmap", FLAT_1, filekind="FLAT",
                                        parkey=FLAT_PARKEY),
    })
    refs = {f"msc/csst_msc_bias_000{i}.fits": b"SIMPLE" for i in (1, 2, 3)}
    refs["msc/csst_msc_flat_0001.fits"] = b"SIMPLE"
    write(root / "references" / "csst", refs)
    write(root / "config" / "csst", {
        "server_config": "{'observatory': 'csst', 'operational_context': 'csst_0002.pmap'}\n"})
    return root
