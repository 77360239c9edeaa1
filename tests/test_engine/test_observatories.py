"""Observatories as data: each description loads, and the engine holds no observatory branch."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import csst_crds_plugin
from csst_crds_plugin import ReferenceProvider
from csst_crds_plugin.context import condition_parameters
from csst_crds_plugin.observatories import (
    DEFAULT_OBSERVATORY,
    get_observatory,
    known_observatories,
)
from csst_crds_plugin.rules import set_sha1sum

ENGINE = Path(csst_crds_plugin.__file__).parent


def test_every_shipped_description_loads_under_its_own_name() -> None:
    assert set(known_observatories()) >= {"csst", "hst", "jwst", "ligeriri", "roman", "tobs"}
    for name in known_observatories():
        assert get_observatory(name).name == name
    assert get_observatory(DEFAULT_OBSERVATORY).instruments  # the CSST tables


def test_an_undescribed_observatory_gets_neutral_defaults() -> None:
    other = get_observatory("keck")
    assert (other.meta_prefix, other.extra_keys, other.instrument_aliases) == ("", (), {})
    assert get_observatory("../csst").name == "../csst"  # never read as a file name
    assert not get_observatory("../csst").instruments


def test_the_differences_the_rules_need() -> None:
    assert condition_parameters({"meta.instrument.name": "wfi"}, "roman") == {
        "ROMAN.META.INSTRUMENT.NAME": "WFI"}
    assert condition_parameters({"meta.instrument.name": "nircam"}, "jwst") == {
        "META.INSTRUMENT.NAME": "NIRCAM"}
    assert "META.VISIT.TSOVISIT" in get_observatory("jwst").extra_keys
    assert get_observatory("hst").instrument_aliases == {"wfii": "wfpc2"}
    assert get_observatory("hst").merge_ambiguity == "warning"


def _observatory_names_compared(path: Path) -> list[str]:
    names = set(known_observatories())
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Compare):
            for part in (node.left, *node.comparators):
                if isinstance(part, ast.Constant) and str(part.value).lower() in names:
                    found.append(f"{path.name}:{node.lineno}: compares with {part.value!r}")
    return found


def test_no_engine_code_branches_on_an_observatory_name() -> None:
    found = [hit for path in sorted(ENGINE.rglob("*.py"))
             for hit in _observatory_names_compared(path)]
    assert not found, "\n".join(found)


def _mapping(kind: str, name: str, parkey: str, selector: str, **fields: str) -> str:
    header = {"derived_from": "'tests'", "mapping": repr(kind), "name": repr(name),
              "observatory": "'LIGERIRI'", "parkey": parkey, "sha1sum": "''", **fields}
    lines = "".join(f"    {k!r} : {v},\n" for k, v in sorted(header.items()))
    return set_sha1sum("header = {\n" + lines + "}\n\nselector = " + selector + "\n")


def test_a_liger_iris_cache_is_served(tmp_path: Path) -> None:
    """The Liger-IRIS layout: observatory ligeriri, instruments by META.INSTRUMENT.NAME."""
    folder = tmp_path / "mappings" / "ligeriri"
    folder.mkdir(parents=True)
    texts = {
        "ligeriri_0001.pmap": _mapping(
            "PIPELINE", "ligeriri_0001.pmap", "('META.INSTRUMENT.NAME',)",
            "{\n    'IRIS' : 'ligeriri_iris_0001.imap',\n"
            "    'LIGER' : 'ligeriri_liger_0001.imap',\n}"),
        "ligeriri_iris_0001.imap": _mapping(
            "INSTRUMENT", "ligeriri_iris_0001.imap", "('REFTYPE',)",
            "{\n    'dark' : 'ligeriri_iris_dark_0001.rmap',\n}", instrument="'IRIS'"),
        "ligeriri_iris_dark_0001.rmap": _mapping(
            "REFERENCE", "ligeriri_iris_dark_0001.rmap",
            "(('META.INSTRUMENT.DETECTOR',), ('META.OBSERVATION.DATE', "
            "'META.OBSERVATION.TIME'))",
            "Match({\n    ('IMG1',) : UseAfter({\n        '2020-01-01 00:00:00' : "
            "'ligeriri_iris_dark_0001.fits',\n    }),\n})",
            instrument="'IRIS'", filekind="'DARK'"),
    }  # the LIGER imap is named but absent, as in the public cache
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    provider = ReferenceProvider(cache=tmp_path, context="ligeriri_0001.pmap")
    assert provider.observatory == "ligeriri"
    found = provider.best_references({
        "meta.instrument.name": "IRIS", "meta.instrument.detector": "IMG1",
        "meta.observation.date": "2024-05-01", "meta.observation.time": "00:00:00"}, ["dark"])
    assert found["dark"].value == "ligeriri_iris_dark_0001.fits"
    with pytest.raises(csst_crds_plugin.FileNotCachedError, match="ligeriri_liger_0001.imap"):
        provider.best_references({"meta.instrument.name": "LIGER"}, ["dark"])
