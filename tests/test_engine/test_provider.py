"""ReferenceProvider on a cache built in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from csst_crds_plugin import (
    NA,
    NOT_APPLICABLE,
    ChecksumError,
    ConfigurationError,
    InvalidValueError,
    MissingInstrumentError,
    NoMatchError,
    ReferenceProvider,
    UnknownInstrumentError,
    UnknownReftypeError,
)
from csst_crds_plugin.settings import settings_context

EXPOSURE = {"INSTRUME": "MSC", "DETECTOR": "06", "READMODE": "FAST",
            "DATE-OBS": "2027-01-02", "TIME-OBS": "10:00:00", "EXPTIME": 50}


def test_best_references_and_paths(tiny_settings: Path) -> None:
    provider = ReferenceProvider()
    assert provider.context == "csst_0001.pmap"  # the cache's operational context
    selections = provider.best_references(EXPOSURE)
    assert selections["bias"].value == "csst_msc_bias_0002.fits"
    assert selections["gain"].value == ("csst_msc_gain_0001.fits", "csst_msc_gain_0002.fits")
    assert selections["fringe"].value is NOT_APPLICABLE
    assert "pixarea" not in selections  # OMIT
    path = provider.get_reference_file(EXPOSURE, "bias")
    assert path == str(tiny_settings / "references" / "csst" / "msc" / "csst_msc_bias_0002.fits")
    assert provider.get_reference_file(EXPOSURE, "FRINGE") == NA


def test_day_before_first_useafter_falls_back_then_fails(tiny_cache: Path) -> None:
    provider = ReferenceProvider(cache=tiny_cache, context="csst_0001.pmap")
    early = dict(EXPOSURE, **{"DATE-OBS": "2026-06-01"})
    assert provider.best_references(early, ["bias"])["bias"].value == "csst_msc_bias_0003.fits"
    with pytest.raises(NoMatchError) as info:
        provider.best_references(dict(EXPOSURE, **{"DATE-OBS": "2025-06-01"}), ["bias"])
    message = str(info.value)
    assert "csst_msc_bias_0001.rmap" in message and "DATE-OBS='2025-06-01'" in message
    assert "nearest rules: " in message
    assert "('06', 'FAST') (matches, but no date/version fits)" in message
    assert "('08', 'N/A') (fails DETECTOR)" in message
    nearest = (r"nearest rules: \('06', '\*'\) \(matches, but no date/version fits\); "
               r"\('06', 'FAST'\) \(fails READMODE\)")
    with pytest.raises(NoMatchError, match=nearest):
        slow_and_early = dict(EXPOSURE, READMODE="SLOW", **{"DATE-OBS": "2025-06-01"})
        provider.best_references(slow_and_early, ["bias"])


def test_errors_name_rmap_parameter_value_and_allowed(tiny_cache: Path) -> None:
    provider = ReferenceProvider(cache=tiny_cache, context="csst_0001.pmap")
    with pytest.raises(InvalidValueError) as info:
        provider.best_references(dict(EXPOSURE, DETECTOR="99"), ["bias"])
    message = str(info.value)
    # Numeric-looking values are conditioned like CRDS does: '06' → '6.0'.
    for part in ("csst_msc_bias_0001.rmap", "DETECTOR", "'99.0'", "['6.0', '8.0']"):
        assert part in message
    with pytest.raises(UnknownReftypeError, match="known types: bias, fringe, gain, pixarea"):
        provider.best_references(EXPOSURE, ["dark"])
    with pytest.raises(UnknownInstrumentError, match="'IFS'.*known: MSC"):
        provider.best_references(dict(EXPOSURE, INSTRUME="IFS"))
    with pytest.raises(MissingInstrumentError, match="INSTRUME"):
        provider.best_references({"DETECTOR": "06"})


def test_collect_mode_keeps_each_error(tiny_cache: Path) -> None:
    provider = ReferenceProvider(cache=tiny_cache, context="csst_0001.pmap")
    selections = provider.best_references(dict(EXPOSURE, DETECTOR="08"), errors="collect")
    assert selections["bias"].value == "csst_msc_bias_0004.fits"
    assert selections["gain"].value is NOT_APPLICABLE  # an N/A terminal
    bad = provider.best_references(dict(EXPOSURE, DETECTOR="07"), errors="collect")
    assert isinstance(bad["bias"].error, InvalidValueError)
    assert bad["fringe"].ok and bad["fringe"].not_applicable


def test_tampered_mapping_is_detected_and_named(tiny_cache: Path) -> None:
    rmap = tiny_cache / "mappings" / "csst" / "csst_msc_bias_0001.rmap"
    rmap.write_text(rmap.read_text().replace("bias_0004.fits", "bias_0005.fits"))
    provider = ReferenceProvider(cache=tiny_cache, context="csst_0001.pmap")
    with pytest.raises(ChecksumError, match="csst_msc_bias_0001.rmap: sha1sum mismatch"):
        provider.best_references(EXPOSURE, ["bias"])
    waived = ReferenceProvider(cache=tiny_cache, context="csst_0001.pmap", ignore_checksum=True)
    assert waived.best_references(dict(EXPOSURE, DETECTOR="08"), ["bias"])["bias"].value == \
        "csst_msc_bias_0005.fits"


def test_ignore_checksum_variable(tiny_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rmap = tiny_cache / "mappings" / "csst" / "csst_msc_gain_0001.rmap"
    rmap.write_text(rmap.read_text() + "# edited\n")
    monkeypatch.setenv("CSST_CRDS_IGNORE_CHECKSUM", "1")
    provider = ReferenceProvider(cache=tiny_cache, context="csst_0001.pmap")
    assert provider.best_references(EXPOSURE, ["gain"])["gain"].ok
    monkeypatch.setenv("CSST_CRDS_IGNORE_CHECKSUM", "maybe")
    with pytest.raises(ConfigurationError, match="CSST_CRDS_IGNORE_CHECKSUM='maybe'"):
        ReferenceProvider(cache=tiny_cache, context="csst_0001.pmap")


def test_context_precedence(tiny_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSST_CRDS_PATH", str(tiny_cache))
    monkeypatch.setenv("CRDS_CONTEXT", "jwst_0541.pmap")  # another observatory's: ignored
    assert ReferenceProvider().context == "csst_0001.pmap"
    monkeypatch.setenv("CRDS_CONTEXT", "csst_0007.pmap")
    assert ReferenceProvider().context == "csst_0007.pmap"
    monkeypatch.setenv("CSST_CRDS_CONTEXT", "csst_0003.pmap")
    assert ReferenceProvider().context == "csst_0003.pmap"
    assert ReferenceProvider(context="csst_0001.pmap").context == "csst_0001.pmap"
    with settings_context(context="csst_0009.pmap"):
        assert ReferenceProvider().context == "csst_0009.pmap"


def test_no_context_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="CSST_CRDS_CONTEXT") as info:
        ReferenceProvider(cache=tmp_path)
    assert "csst-crds sync" in str(info.value)


def test_explain_shows_the_rule_path(tiny_cache: Path) -> None:
    provider = ReferenceProvider(cache=tiny_cache, context="csst_0001.pmap")
    text = str(provider.explain(dict(EXPOSURE, READMODE="SLOW"), "bias"))
    assert "('06', 'FAST'): DETECTOR:match, READMODE:NO MATCH [eliminated]" in text
    assert "('06', '*'): DETECTOR:match, READMODE:match [candidate]" in text
    assert "result:    'csst_msc_bias_0003.fits'" in text
    failed = provider.explain(dict(EXPOSURE, DETECTOR="07"), "bias")
    assert failed.category == "invalid-value" and "pre-validation failed" in str(failed)


def test_settings_follow_the_environment_and_are_reused_while_it_is_unchanged(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from csst_crds_plugin.settings import get_settings

    monkeypatch.setenv("CSST_CRDS_PATH", str(tmp_path / "a"))
    first = get_settings()
    assert first.cache_root == tmp_path / "a" and get_settings() is first
    monkeypatch.setenv("CSST_CRDS_PATH", str(tmp_path / "b"))
    assert get_settings().cache_root == tmp_path / "b"
    monkeypatch.setenv("CSST_CRDS_READONLY", "1")
    assert get_settings().readonly


def test_large_mapping_checksum_is_verified_beside_the_parse(
        cache_builder, tiny_texts: dict[str, str]) -> None:  # noqa: ANN001
    """Over 1 MB the sha1sum is computed in a thread from the file's bytes: same verdicts."""
    days = [f"20{y:02d}-{m:02d}-{d:02d} 00:00:00" for y in range(10, 30) for m in range(1, 13)
            for d in range(1, 29)]
    body = "".join(f"        '{day}' : 'csst_msc_bias_{i:05d}.fits',\n"
                   for i, day in enumerate(days))
    block = "".join(f"    ('{det:02d}', '*') : UseAfter({{\n{body}    }}),\n"
                    for det in range(6, 13))
    large = tiny_texts["csst_msc_bias_0001.rmap"].split("selector =")[0] + \
        f"selector = Match({{\n{block}}})\n"
    cache = cache_builder(mappings={**tiny_texts, "csst_msc_bias_0001.rmap": large},
                          config={"server_config": "{'observatory': 'csst'}\n"})
    rmap = cache / "mappings" / "csst" / "csst_msc_bias_0001.rmap"
    assert rmap.stat().st_size > 1 << 20
    exposure = dict(EXPOSURE, DETECTOR="09", READMODE="FAST", **{"DATE-OBS": "2020-05-03"})
    good = ReferenceProvider(cache=cache, context="csst_0001.pmap")
    expected = f"csst_msc_bias_{days.index('2020-05-03 00:00:00'):05d}.fits"
    assert good.best_references(exposure, ["bias"])["bias"].value == expected
    text = rmap.read_text()
    for name, changed in (("tampered", text.replace("bias_00042.fits", "bias_00043.fits", 1)),
                          ("crlf", text.replace("\n", "\r\n"))):  # other line ends: same sum
        copy = cache_builder(mappings={**tiny_texts, "csst_msc_bias_0001.rmap": ""},
                             root=cache.parent / name)
        (copy / "mappings" / "csst" / "csst_msc_bias_0001.rmap").write_bytes(changed.encode())
        provider = ReferenceProvider(cache=copy, context="csst_0001.pmap")
        if name == "tampered":  # one character
            with pytest.raises(ChecksumError, match="csst_msc_bias_0001.rmap: sha1sum mismatch"):
                provider.best_references(exposure, ["bias"])
        else:
            assert provider.best_references(exposure, ["bias"])["bias"].value == expected
