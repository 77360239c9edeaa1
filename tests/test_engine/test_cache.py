"""The serverless cache: layout, safe names, contexts, bad files, read-only, no network."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest

from csst_crds_plugin import ReferenceProvider
from csst_crds_plugin.cache import CacheLayout, load_config
from csst_crds_plugin.cache.manifest import Digest, render_manifest
from csst_crds_plugin.errors import (
    BadReferenceError,
    BadRulesError,
    CacheError,
    ConfigurationError,
    CsstCrdsWarning,
    FileNotCachedError,
    IntegrityError,
    ReadOnlyCacheError,
    RuleSyntaxError,
)
from csst_crds_plugin.settings import get_settings

EXPOSURE = {"INSTRUME": "MSC", "DETECTOR": "06", "READMODE": "FAST", "DATE-OBS": "2027-01-02",
            "TIME-OBS": "10:00:00"}
JWST_CASE = {"META.INSTRUMENT.NAME": "FGS", "META.INSTRUMENT.DETECTOR": "GUIDER2",
             "META.OBSERVATION.DATE": "2016-03-18", "META.OBSERVATION.TIME": "20:33:33.5",
             "META.EXPOSURE.READPATT": "FGS", "META.EXPOSURE.TYPE": "FGS_ID-STACK",
             "META.SUBARRAY.NAME": "SUB128DIAG"}

HISTORY = {
    "observatory": "csst",
    "operational": "csst_0002.pmap",
    "history": [
        {"context": "csst_0001.pmap", "activated": "2026-01-01T00:00:00", "description": "a"},
        {"context": "csst_0002.pmap", "activated": "2026-06-01T00:00:00", "description": "b"},
        {"context": "csst_0003.pmap", "activated": "2026-09-01T12:00:00"},
    ],
}


def _write_contexts(cache: Path, data: dict[str, object]) -> None:
    (cache / "config" / "csst" / "contexts.json").write_text(json.dumps(data))


@pytest.mark.parametrize(("spec", "expected"), [
    ("csst-operational", "csst_0002.pmap"),
    ("csst-latest", "csst_0003.pmap"),
    ("latest", "csst_0003.pmap"),
    ("csst-2026-01-01T00:00:00", "csst_0001.pmap"),
    ("csst-2026-05-31T23:59:59", "csst_0001.pmap"),
    ("csst-2026-06-01T00:00:00", "csst_0002.pmap"),
    ("csst-2026-09-01", "csst_0002.pmap"),
    ("csst-2030-01-01T00:00:00", "csst_0003.pmap"),
    ("csst_0009.pmap", "csst_0009.pmap"),
])
def test_symbolic_and_date_contexts_resolve_offline(
        tiny_cache: Path, monkeypatch: pytest.MonkeyPatch, spec: str, expected: str) -> None:
    _write_contexts(tiny_cache, HISTORY)
    monkeypatch.setenv("CSST_CRDS_PATH", str(tiny_cache))
    monkeypatch.setenv("CSST_CRDS_CONTEXT", spec)
    assert ReferenceProvider().context == expected
    monkeypatch.delenv("CSST_CRDS_CONTEXT")
    monkeypatch.setenv("CRDS_CONTEXT", spec)
    assert ReferenceProvider().context == (expected if spec != "latest" else "csst_0002.pmap")


def test_json_config_wins_over_server_config(tiny_cache: Path) -> None:
    assert ReferenceProvider(cache=tiny_cache).context == "csst_0001.pmap"
    _write_contexts(tiny_cache, HISTORY)
    assert ReferenceProvider(cache=tiny_cache).context == "csst_0002.pmap"


@pytest.mark.parametrize(("spec", "message"), [
    ("csst-2020-01-01T00:00:00", "history starts at 2026-01-01"),
    ("csst-2026-13-01T00:00:00", "not a date"),
    ("csst-build", "cannot be resolved without a server"),
    ("csst-edit", "names no edit context"),
    ("csst_msc_0001.imap", "not a pipeline context"),
])
def test_unresolvable_specs_name_the_variable(
        tiny_cache: Path, monkeypatch: pytest.MonkeyPatch, spec: str, message: str) -> None:
    _write_contexts(tiny_cache, HISTORY)
    monkeypatch.setenv("CSST_CRDS_CONTEXT", spec)
    with pytest.raises(ConfigurationError, match=message) as info:
        ReferenceProvider(cache=tiny_cache)
    assert "CSST_CRDS_CONTEXT" in str(info.value)


def test_bad_boolean_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSST_CRDS_READONLY", "perhaps")
    with pytest.raises(ConfigurationError, match="CSST_CRDS_READONLY='perhaps'"):
        get_settings()


def test_server_config_is_data_never_code(tiny_cache: Path) -> None:
    config = tiny_cache / "config" / "csst" / "server_config"
    config.write_text("{'observatory': 'csst', 'operational_context': __import__('os').getcwd()}")
    with pytest.raises(RuleSyntaxError):
        ReferenceProvider(cache=tiny_cache)
    config.write_text("{'observatory': 'jwst', 'operational_context': 'jwst_0001.pmap'}")
    with pytest.raises(CacheError, match="observatory is 'jwst', expected 'csst'"):
        ReferenceProvider(cache=tiny_cache)


def test_server_config_bad_files_that_are_no_list_are_named(tiny_cache: Path) -> None:
    config = tiny_cache / "config" / "csst" / "server_config"
    config.write_text("{'observatory': 'csst', 'bad_files_list': 5}")
    with pytest.raises(CacheError, match=r"server_config: bad_files_list is 5; write a list"):
        ReferenceProvider(cache=tiny_cache)
    config.write_text("{'observatory': 'csst', 'operational_context': 'csst_0001.pmap', "
                      "'bad_files_list': 'a.fits  b.fits'}")
    assert ReferenceProvider(cache=tiny_cache).cache_config.bad_files >= {"a.fits", "b.fits"}


def test_jwst_cache_in_place_with_crds_context(monkeypatch: pytest.MonkeyPatch,
                                               conformance_corpus: Path) -> None:
    monkeypatch.setenv("CRDS_CONTEXT", "jwst_0541.pmap")
    provider = ReferenceProvider(cache=conformance_corpus / "jwst-0541" / "cache",
                                 observatory="jwst")
    assert provider.context == "jwst_0541.pmap"
    chosen = provider.best_references(JWST_CASE, ["area", "superbias"])
    assert chosen["superbias"].value == "jwst_fgs_superbias_0032.fits"


def test_jwst_style_cache_with_server_config_and_bad_files(tmp_path: Path,
                                                           conformance_corpus: Path) -> None:
    cache = tmp_path / "jwst_cache"
    shutil.copytree(conformance_corpus / "jwst-0541" / "cache", cache)
    config = cache / "config" / "jwst"
    config.mkdir(parents=True)
    (config / "server_config").write_text(
        "{'observatory': 'jwst', 'operational_context': 'jwst_0541.pmap', "
        "'latest_context': 'jwst_0541.pmap', 'bad_files_list': ['jwst_fgs_area_0012.fits'], "
        "'download_metadata': {'x': [1, 'y']}, 'force_remote_mode': False}\n")
    (config / "bad_files.txt").write_text("jwst_fgs_superbias_0001.fits\n")
    (config / "ref_cache_subdir_mode").write_text("instrument\n")
    refs = cache / "references" / "jwst" / "fgs"
    refs.mkdir(parents=True)
    (refs / "jwst_fgs_superbias_0032.fits").write_bytes(b"x")
    (refs / "jwst_fgs_area_0012.fits").write_bytes(b"x")
    provider = ReferenceProvider(cache=cache, observatory="jwst")
    assert provider.context == "jwst_0541.pmap"
    assert provider.cache_config.bad_files == {"jwst_fgs_area_0012.fits",
                                               "jwst_fgs_superbias_0001.fits"}
    assert provider.get_reference_file(JWST_CASE, "superbias") == str(
        refs / "jwst_fgs_superbias_0032.fits")
    with pytest.raises(BadReferenceError, match="jwst_fgs_area_0012.fits"):
        provider.get_reference_file(JWST_CASE, "area")


def test_get_reference_file_returns_an_existing_absolute_path(tiny_cache: Path) -> None:
    provider = ReferenceProvider(cache=tiny_cache)
    path = Path(provider.get_reference_file(EXPOSURE, "bias"))
    assert path.is_absolute() and path.is_file()
    assert path == tiny_cache / "references" / "csst" / "msc" / "csst_msc_bias_0002.fits"
    assert provider.get_reference_file(EXPOSURE, "fringe") == "N/A"


def test_missing_reference_names_it_and_the_command(tiny_cache: Path) -> None:
    (tiny_cache / "references" / "csst" / "msc" / "csst_msc_bias_0002.fits").unlink()
    provider = ReferenceProvider(cache=tiny_cache)
    with pytest.raises(FileNotCachedError) as info:
        provider.get_reference_file(EXPOSURE, "bias")
    text = str(info.value)
    assert "missing: csst_msc_bias_0002.fits" in text
    assert "csst-crds sync --source MIRROR --files csst_msc_bias_0002.fits" in text
    _write_contexts(tiny_cache, {**HISTORY, "operational": "csst_0001.pmap",
                                 "mirror": "https://mirror.example/crds"})
    with pytest.raises(FileNotCachedError, match="--source https://mirror.example/crds"):
        ReferenceProvider(cache=tiny_cache).get_reference_file(EXPOSURE, "bias")


def test_flat_layout_and_auto_detection(tiny_cache: Path) -> None:
    refs = tiny_cache / "references" / "csst"
    for path in list((refs / "msc").iterdir()):
        path.rename(refs / path.name)
    (refs / "msc").rmdir()
    layout = CacheLayout(tiny_cache, "csst")
    assert layout.subdir_mode() == "instrument"  # 6 entries: CRDS would say instrument
    provider = ReferenceProvider(cache=tiny_cache)
    assert provider.get_reference_file(EXPOSURE, "bias") == str(refs / "csst_msc_bias_0002.fits")
    for i in range(30):
        (refs / f"csst_msc_dark_{i:04d}.fits").write_bytes(b"")
    assert CacheLayout(tiny_cache, "csst").subdir_mode() == "flat"
    (tiny_cache / "config" / "csst" / "ref_cache_subdir_mode").write_text("instrument\n")
    fresh = CacheLayout(tiny_cache, "csst")
    assert fresh.subdir_mode() == "instrument"
    assert fresh.reference_target("csst_msc_bias_0009.fits") == refs / "msc" / \
        "csst_msc_bias_0009.fits"


TRAVERSAL_RMAP = """
header = {
    'derived_from' : 'generated',
    'filekind' : 'BIAS',
    'instrument' : 'MSC',
    'mapping' : 'REFERENCE',
    'name' : 'csst_msc_bias_0001.rmap',
    'observatory' : 'CSST',
    'parkey' : (('DETECTOR',),),
    'sha1sum' : '',
}

selector = Match({
    '01' : '../../etc/passwd',
    '02' : '/etc/passwd',
    '03' : 'csst_msc_bias_0003.fits',
})
"""


def test_traversal_in_rules_is_refused(cache_builder, tiny_texts: dict[str, str],
                                       tmp_path: Path) -> None:
    outside = tmp_path / "secret.fits"
    outside.write_bytes(b"secret")
    cache = cache_builder(
        mappings={**tiny_texts, "csst_msc_bias_0001.rmap": TRAVERSAL_RMAP},
        config={"contexts.json": json.dumps({"operational": "csst_0001.pmap"})},
    )
    link = cache / "references" / "csst" / "msc" / "csst_msc_bias_0003.fits"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)
    provider = ReferenceProvider(cache=cache)
    for detector, pattern in (("01", r"'\.\./\.\./etc/passwd'"), ("02", "'/etc/passwd'"),
                              ("03", "outside the cache root")):
        with pytest.raises(CacheError, match=pattern) as info:
            provider.get_reference_file({"INSTRUME": "MSC", "DETECTOR": detector}, "bias")
        assert "refusing" in str(info.value)
    with pytest.raises(CacheError, match="refusing mapping name"):
        CacheLayout(cache, "csst").read_mapping("../../etc/passwd")


def test_bad_rules_and_bad_references(tiny_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tiny_cache / "config" / "csst" / "bad_files.txt"
    bad.write_text("# marked by the CCB\ncsst_msc_bias_0002.fits\n")
    provider = ReferenceProvider(cache=tiny_cache)
    with pytest.raises(BadReferenceError, match="Recommended reference 'csst_msc_bias_0002.fits'"
                                                " of type 'bias' is designated"):
        provider.get_reference_file(EXPOSURE, "bias")
    monkeypatch.setenv("CSST_CRDS_ALLOW_BAD_REFERENCES", "1")
    with pytest.warns(CsstCrdsWarning, match="scientifically invalid"):
        assert provider.get_reference_file(EXPOSURE, "bias").endswith("csst_msc_bias_0002.fits")
    bad.write_text("csst_msc_gain_0001.rmap\n")
    provider = ReferenceProvider(cache=tiny_cache)
    with pytest.raises(BadRulesError, match=r"Final context 'csst_0001.pmap' is marked as "
                                            r"scientifically invalid based on: \['csst_msc_gain"):
        provider.get_reference_file(EXPOSURE, "bias")
    monkeypatch.setenv("CRDS_ALLOW_BAD_RULES", "true")
    with pytest.warns(CsstCrdsWarning, match="Final context"):
        provider.get_reference_file(EXPOSURE, "bias")


def test_bad_files_apply_to_best_references_and_bestrefs(
    tiny_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tiny_cache / "config" / "csst" / "bad_files.txt").write_text("csst_msc_bias_0002.fits\n")
    provider = ReferenceProvider(cache=tiny_cache)
    exposure = dict(EXPOSURE, EXPTIME=50)
    collected = provider.best_references(exposure, ["bias", "gain"], errors="collect")
    assert isinstance(collected["bias"].error, BadReferenceError)
    assert collected["gain"].ok  # only the bad reference's type fails
    with pytest.raises(BadReferenceError):
        provider.best_references(exposure, ["bias"])
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps(exposure) + "\n")
    from csst_crds_plugin.cli.main import main

    assert main(["bestrefs", "--cache", str(tiny_cache), "--headers", str(cases),
                 "--types", "bias", "gain"]) == 1  # a failed lookup; its line is written
    results = json.loads(capsys.readouterr().out)["results"]
    assert results["bias"]["error"] == "other" and "scientifically invalid" in \
        results["bias"]["message"]
    (tiny_cache / "config" / "csst" / "bad_files.txt").write_text("csst_msc_0001.imap\n")
    with pytest.raises(BadRulesError):
        ReferenceProvider(cache=tiny_cache).best_references(exposure, ["gain"], errors="collect")


def test_size_recorded_in_manifest_is_checked(tiny_cache: Path) -> None:
    (tiny_cache / "config" / "csst" / "manifest.json").write_bytes(render_manifest(
        {"csst_msc_bias_0002.fits": Digest("0" * 64, 999)}))
    with pytest.raises(IntegrityError, match="csst_msc_bias_0002.fits.*truncated or corrupt"):
        ReferenceProvider(cache=tiny_cache).get_reference_file(EXPOSURE, "bias")


def test_lookups_open_no_socket(tiny_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access during a lookup: {args!r}")

    _write_contexts(tiny_cache, HISTORY | {"operational": "csst_0001.pmap"})
    with monkeypatch.context() as guard:
        guard.setattr(socket.socket, "connect", refuse)
        guard.setattr(socket.socket, "connect_ex", refuse)
        guard.setattr(socket, "create_connection", refuse)
        guard.setattr(socket, "getaddrinfo", refuse)
        provider = ReferenceProvider(cache=tiny_cache)
        assert provider.get_reference_file(EXPOSURE, "bias").endswith("bias_0002.fits")
        (tiny_cache / "references" / "csst" / "msc" / "csst_msc_bias_0001.fits").unlink()
        with pytest.raises(FileNotCachedError):
            provider.get_reference_file({**EXPOSURE, "DATE-OBS": "2027-01-01"}, "bias")


def test_readonly_cache_refuses_writes_and_reads_fine(tiny_cache: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRDS_READONLY_CACHE", "1")
    before = sorted(str(p) for p in tiny_cache.rglob("*"))
    provider = ReferenceProvider(cache=tiny_cache)
    assert provider.layout.readonly
    assert provider.get_reference_file(EXPOSURE, "bias")
    with pytest.raises(ReadOnlyCacheError, match="read-only .*CSST_CRDS_READONLY"):
        provider.layout.write_bytes(tiny_cache / "config" / "csst" / "x", b"")
    assert sorted(str(p) for p in tiny_cache.rglob("*")) == before


def test_atomic_writes_leave_no_temporary_file(tmp_path: Path) -> None:
    layout = CacheLayout(tmp_path, "csst")
    target = layout.config_dir / "f.txt"
    layout.write_bytes(target, b"one")
    with pytest.raises(RuntimeError), layout.atomic_writer(target) as stream:
        stream.write(b"two, half written")
        raise RuntimeError("verification failed")
    assert target.read_bytes() == b"one"
    assert [p.name for p in layout.config_dir.iterdir()] == ["f.txt"]


def test_load_config_merges_sources(tiny_cache: Path) -> None:
    _write_contexts(tiny_cache, {**HISTORY, "bad_files": ["a.fits"]})
    (tiny_cache / "config" / "csst" / "bad_files.txt").write_text("b.fits c.rmap\n")
    config = load_config(CacheLayout(tiny_cache, "csst"))
    assert config.operational == "csst_0002.pmap"
    assert config.latest_context == "csst_0003.pmap"
    assert config.bad_files == {"a.fits", "b.fits", "c.rmap"}
    assert [e.context for e in config.history] == ["csst_0001.pmap", "csst_0002.pmap",
                                                   "csst_0003.pmap"]


def test_a_found_reference_swapped_for_an_escaping_link_is_refused(tiny_cache: Path,
                                                                   tmp_path: Path) -> None:
    provider = ReferenceProvider(cache=tiny_cache, context="csst_0001.pmap")
    exposure = {"INSTRUME": "MSC", "DETECTOR": "06", "READMODE": "FAST",
                "DATE-OBS": "2027-01-02", "TIME-OBS": "00:00:00"}
    path = Path(provider.get_reference_file(exposure, "bias"))
    assert provider.get_reference_file(exposure, "bias") == str(path)  # found again
    replacement = path.with_name("new.tmp")
    replacement.write_bytes(b"SIMPLE2")
    replacement.replace(path)  # an intended replacement: a new file at the same place
    assert Path(provider.get_reference_file(exposure, "bias")).read_bytes() == b"SIMPLE2"
    outside = tmp_path / "secret.fits"
    outside.write_bytes(b"secret")
    path.unlink()
    path.symlink_to(outside)
    with pytest.raises(CacheError, match="outside the cache root"):
        provider.get_reference_file(exposure, "bias")
    path.unlink()
    with pytest.raises(FileNotCachedError):
        provider.get_reference_file(exposure, "bias")
