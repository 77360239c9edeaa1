"""Certify a whole context closure, and files against a cache and a context.

The checks: the rmap that would receive a reference, identical selections, dependencies.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from csst_crds_plugin.errors import ConfigurationError
from csst_crds_plugin.rules import set_sha1sum
from csst_crds_plugin.tools.certify import certify_context, certify_files

CONTEXT = "csst_0001.pmap"


def names(report) -> list[str]:
    return sorted(Path(f.path).name for f in report.files)


def rewrite(path: Path, old: str, new: str) -> None:
    """Edit a mapping and give it a correct checksum again (a consistent, deliberate edit)."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(set_sha1sum(text.replace(old, new)), encoding="utf-8")


# -- certify_context -----------------------------------------------------------------------------
def test_clean_context_passes(clean_cache: Path) -> None:
    report = certify_context(clean_cache, CONTEXT)
    assert names(report) == [CONTEXT, "csst_msc_0001.imap", "csst_msc_bias_0001.rmap",
                             "csst_msc_flat_0001.rmap"]
    assert report.ok and report.warnings == [], (report.errors, report.warnings)
    assert all(f.kind == "mapping" for f in report.files)


def test_context_spec_is_resolved_from_the_cache_config(clean_cache: Path) -> None:
    assert names(certify_context(clean_cache, "csst-operational"))[0] == CONTEXT
    with pytest.raises(ConfigurationError):
        certify_context(clean_cache, "csst-edit")


def test_context_with_a_missing_rmap_and_a_missing_reference(clean_cache: Path) -> None:
    mappings = clean_cache / "mappings" / "csst"
    (mappings / "csst_msc_flat_0001.rmap").unlink()
    (clean_cache / "references" / "csst" / "msc" / "csst_msc_bias_0003.fits").unlink()
    report = certify_context(clean_cache, CONTEXT)
    assert not report.ok
    flat = next(f for f in report.files if f.path.endswith("csst_msc_flat_0001.rmap"))
    assert flat.errors == [f"{mappings / 'csst_msc_flat_0001.rmap'}: mapping "
                           f"csst_msc_flat_0001.rmap is named by the context {CONTEXT} but is "
                           f"not in the cache {mappings}"]
    bias = next(f for f in report.files if f.path.endswith("csst_msc_bias_0001.rmap"))
    assert [m for m in bias.errors if "names the reference csst_msc_bias_0003.fits" in m]


def test_context_with_a_tampered_rmap(clean_cache: Path) -> None:
    path = clean_cache / "mappings" / "csst" / "csst_msc_flat_0001.rmap"
    path.write_text(path.read_text().replace("'GI'", "'GV'"), encoding="utf-8")
    report = certify_context(clean_cache, CONTEXT)
    bad = [f for f in report.files if not f.ok]
    assert [f.path for f in bad] == [str(path)]
    assert "sha1sum mismatch" in bad[0].errors[0]


def test_context_children_must_agree_with_their_entries(clean_cache: Path) -> None:
    rewrite(clean_cache / "mappings" / "csst" / "csst_msc_flat_0001.rmap",
            "'filekind' : 'FLAT'", "'filekind' : 'DARK'")
    report = certify_context(clean_cache, CONTEXT)
    flat = next(f for f in report.files if f.path.endswith("csst_msc_flat_0001.rmap"))
    assert [m for m in flat.errors if "header filekind 'dark' differs from the entry 'flat'" in m]


def test_context_with_an_ambiguous_rmap(clean_cache: Path) -> None:
    rewrite(clean_cache / "mappings" / "csst" / "csst_msc_bias_0001.rmap",
            "('08', 'N/A')", "('06', '*')")
    report = certify_context(clean_cache, CONTEXT)
    bias = next(f for f in report.files if f.path.endswith("csst_msc_bias_0001.rmap"))
    assert [m for m in bias.errors if "equal weight special case" in m]


# -- certify_files with a context ----------------------------------------------------------------
@pytest.fixture
def submit(clean_cache: Path, write_fits, tmp_path: Path):
    """Write new references into an upload folder and certify them against the cache."""
    upload = tmp_path / "upload"

    def run(*specs: tuple[str, dict[str, object]], context: str | None = CONTEXT):
        paths = [write_fits(name, folder=upload, **keywords) for name, keywords in specs]
        return certify_files(paths, cache=clean_cache, context=context)

    return run


def test_new_references_fit_the_context(submit) -> None:
    report = submit(("new_bias.fits", {"USEAFTER": "2027-01-03T00:00:00"}),
                    ("new_flat.fits", {"REFTYPE": "FLAT", "DETECTOR": "13", "FILTER": "NUV",
                                       "R_BIAS": "csst_msc_bias_0003.fits",
                                       "R_DARK": "csst_msc_dark_0001.fits"}))
    assert report.ok, report.errors
    path = report.files[1].path
    assert report.warnings == [f"{path}: keyword R_BIAS='csst_msc_bias_0003.fits' names a "
                               "reference of DETECTOR '08', but this reference has DETECTOR '13'",
                               f"{path}: keyword R_DARK='csst_msc_dark_0001.fits' names a "
                               "reference of DETECTOR '06', but this reference has DETECTOR '13'"]


def test_reference_without_rules_in_the_context(submit) -> None:
    report = submit(("gain.fits", {"REFTYPE": "GAIN"}))
    assert report.errors == [f"{report.files[0].path}: cannot be inserted: the context "
                             f"{CONTEXT} has no rules for MSC gain references "
                             "(csst_msc_0001.imap has no 'gain' entry)"]
    mask = submit(("mask.fits", {"REFTYPE": "MASK"}))  # imap entry N/A
    assert [m for m in mask.errors if "no rules for MSC mask" in m]


def test_insertion_that_would_tie_with_an_existing_rule(submit) -> None:
    """The flat rmap has ('01|10', 'GI'); a flat for 01/GI would be a special case of it."""
    report = submit(("flat01.fits", {"REFTYPE": "FLAT", "DETECTOR": "01", "FILTER": "GI",
                                     "R_BIAS": "b.fits", "R_DARK": "d.fits"}))
    errors = [m for m in report.errors if "inserting it into csst_msc_flat_0001.rmap" in m]
    assert len(errors) == 1
    assert "('1.0', 'GI')" in errors[0] and "equal weight special case of the rule " \
           "('01|10', 'GI')" in errors[0]


def test_identical_selections_in_one_batch(submit) -> None:
    report = submit(("a.fits", {"USEAFTER": "2027-01-05T00:00:00"}),
                    ("b.fits", {"USEAFTER": "2027-01-05T00:00:00", "READMODE": "fast"}),
                    ("c.fits", {"USEAFTER": "2027-01-06T00:00:00"}))
    first, second, third = report.files
    assert ["selects exactly like b.fits" in m for m in first.errors] == [True]
    assert ["selects exactly like a.fits" in m for m in second.errors] == [True]
    assert third.ok


def test_dependencies_present_in_the_cache_or_the_batch(submit) -> None:
    dark = {"REFTYPE": "DARK", "R_BIAS": "new_bias.fits"}
    alone = submit(("dark.fits", dark))
    assert [m for m in alone.errors if "R_BIAS='new_bias.fits' names a reference that is "
            "neither in the cache" in m]
    together = submit(("new_bias.fits", {"USEAFTER": "2027-01-03T00:00:00"}),
                      ("dark.fits", {**dark, "USEAFTER": "2027-01-03T00:00:00"}),
                      context=None)
    assert together.ok, together.errors
    cached = submit(("dark.fits", {"REFTYPE": "DARK", "R_BIAS": "csst_msc_bias_0002.fits"}),
                    context=None)
    assert cached.ok, cached.errors
