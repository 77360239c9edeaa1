"""Certify rule files.

The checks: syntax, checksums, duplicates, the ambiguity check, UseAfter dates, header checks,
references present, and the constructs where the engine departs from CRDS.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from csst_crds_plugin.tools.certify import CertifyReport, FileReport, certify_files

RMAP = """
header = {{
    'derived_from' : 'generated',
    'filekind' : 'BIAS',
    'instrument' : 'MSC',
    'mapping' : 'REFERENCE',
    'name' : 'csst_msc_bias_0001.rmap',
    'observatory' : '{observatory}',
    'parkey' : (('DETECTOR', 'READMODE'), ('DATE-OBS', 'TIME-OBS')),
    'sha1sum' : '',{extra}
}}

selector = Match({{
{rules}
}})
"""


def rmap(rules: str, extra: str = "", observatory: str = "CSST") -> str:
    """Return an MSC bias rmap with these Match rules (indented 4) and extra header lines."""
    return RMAP.format(rules=rules, extra=extra, observatory=observatory)


def rule(key: str, *dates: tuple[str, str]) -> str:
    """One Match rule whose UseAfter lists (date, file) pairs in the given order."""
    rows = "".join(f"        '{date}' : '{name}',\n" for date, name in dates)
    return f"    {key} : UseAfter({{\n{rows}    }}),"


DAY1 = ("2027-01-01 00:00:00", "csst_msc_bias_0001.fits")
DAY2 = ("2027-01-02 00:00:00", "csst_msc_bias_0002.fits")


def one(report: CertifyReport) -> FileReport:
    (file_report,) = report.files
    return file_report


def certify_rmap(write_mapping, text: str, name: str = "csst_msc_bias_0001.rmap") -> FileReport:
    return one(certify_files([write_mapping(name, text)]))


# -- clean rules ---------------------------------------------------------------------------------
def test_clean_rmap_passes(write_mapping) -> None:
    text = rmap("\n".join([rule("('06', 'FAST')", DAY1, DAY2), rule("('06', 'NORMAL')", DAY1),
                           rule("('08', 'N/A')", DAY1)]))
    report = certify_rmap(write_mapping, text)
    assert report.kind == "mapping"
    assert report.ok and report.warnings == [], (report.errors, report.warnings)


def test_clean_context_files_pass(clean_cache: Path) -> None:
    folder = clean_cache / "mappings" / "csst"
    report = certify_files(sorted(folder.iterdir()), cache=clean_cache)
    assert report.ok and report.warnings == [], (report.errors, report.warnings)


# -- checksum ------------------------------------------------------------------------------------
def test_tampered_checksum(clean_cache: Path) -> None:
    path = clean_cache / "mappings" / "csst" / "csst_msc_bias_0001.rmap"
    path.write_text(path.read_text().replace("csst_msc_bias_0003.fits",
                                             "csst_msc_bias_0002.fits"))
    (message,) = one(certify_files([path])).errors
    assert message.startswith(f"{path}: sha1sum mismatch")


def test_missing_checksum_and_the_d6_waiver(write_mapping) -> None:
    text = rmap(rule("('06', 'FAST')", DAY1)).replace("    'sha1sum' : '',\n", "")
    missing = certify_rmap(write_mapping, text)
    assert [m for m in missing.errors if "no sha1sum in the header" in m]
    waived = text.replace("'parkey'", "'ignore_checksum' : True,\n    'parkey'")
    report = certify_rmap(write_mapping, waived)
    assert report.ok, report.errors
    assert any("no sha1sum in the header" in m for m in report.warnings)
    assert any("departure D6" in m for m in report.warnings)


# -- syntax --------------------------------------------------------------------------------------
def test_syntax_error_is_located(write_mapping) -> None:
    text = rmap(rule("('06', 'FAST')", DAY1)).replace("'FAST')", "'FAST' + 'X')")
    (message,) = certify_rmap(write_mapping, text).errors
    assert "syntax error at line 13, column" in message and "operators" in message


@pytest.mark.parametrize("change, words", [
    (("(('DETECTOR', 'READMODE'), ", "(['DETECTOR', 'READMODE'], "), "a list used as a value"),
    (("    }),\n})", "    }),\n},)"), "trailing comma inside Match"),
    (("'csst_msc_bias_0001.fits'", "'csst_msc_' 'bias_0001.fits'"), "adjacent string literals"),
])
def test_lenient_constructs_are_errors(write_mapping, change: tuple[str, str], words: str) -> None:
    text = rmap(rule("('06', 'FAST')", DAY1)).replace(*change)
    errors = certify_rmap(write_mapping, text).errors
    assert [m for m in errors if words in m and "canonical grammar" in m], errors


# -- duplicate keys ------------------------------------------------------------------------------
def test_duplicate_keys(write_mapping) -> None:
    text = rmap("\n".join([rule("('06', 'FAST')", DAY1), rule("('08', 'N/A')", DAY1),
                           rule("('06', 'FAST')", DAY2)]))
    errors = certify_rmap(write_mapping, text).errors
    assert [m for m in errors if "line 19: Duplicate entry at selector Match key ('06', 'FAST') "
            "(first at line 13)" in m], errors
    dated = rmap(rule("('06', 'FAST')", DAY1, DAY1))
    assert [m for m in certify_rmap(write_mapping, dated).errors
            if "Duplicate entry at selector UseAfter" in m]


def test_duplicate_header_and_context_entries(write_mapping) -> None:
    pmap = write_mapping("csst_0001.pmap", """
        header = {
            'derived_from' : 'generated',
            'mapping' : 'PIPELINE',
            'name' : 'csst_0001.pmap',
            'name' : 'csst_0002.pmap',
            'observatory' : 'CSST',
            'parkey' : ('INSTRUME',),
            'sha1sum' : '',
        }

        selector = {
            'MSC' : 'csst_msc_0001.imap',
            'MSC' : 'csst_msc_0002.imap',
        }
        """)
    errors = one(certify_files([pmap])).errors
    assert [m for m in errors if "Duplicate entry at header key 'name'" in m]
    assert [m for m in errors if "Duplicate entry at selector key 'MSC'" in m]


# -- the ambiguity check -------------------------------------------------------------------------
@pytest.mark.parametrize("special, general", [
    ("('06', 'FAST')", "('06', '*')"),
    ("('06', 'FAST')", "('06|08', 'FAST')"),
    ("('06', 'FAST')", "('*', '*')"),
    ("('06', 'N/A')", "('*', 'N/A')"),
])
def test_overlapping_rules(write_mapping, special: str, general: str) -> None:
    text = rmap("\n".join([rule(special, DAY1), rule(general, DAY2)]))
    (message,) = certify_rmap(write_mapping, text).errors
    assert f"line 13: Match rule {special} is an equal weight special case of {general} " \
           "(line 16)" in message


@pytest.mark.parametrize("first, second", [
    ("('06', 'FAST')", "('6', 'fast')"),
    ("('06|08', 'FAST')", "('08|06', 'FAST')"),
])
def test_rules_equal_after_conditioning(write_mapping, first: str, second: str) -> None:
    text = rmap("\n".join([rule(first, DAY1), rule(second, DAY2)]))
    (message,) = certify_rmap(write_mapping, text).errors
    assert f"Match rule {second} is the same rule as {first}" in message


@pytest.mark.parametrize("first, second", [
    ("('06', 'FAST')", "('06', 'N/A')"),      # different weight: N/A does not count
    ("('06', 'FAST')", "('08', '*')"),
    ("('06|08', 'FAST')", "('13|14', '*')"),
])
def test_rules_that_do_not_tie(write_mapping, first: str, second: str) -> None:
    text = rmap("\n".join([rule(first, DAY1), rule(second, DAY2)]))
    report = certify_rmap(write_mapping, text)
    assert report.ok and report.warnings == [], (report.errors, report.warnings)


@pytest.mark.parametrize("first, second", [
    ("('06', '*')", "('*', 'FAST')"),            # both match 06/FAST with weight -2
    ("('06|08', 'FAST')", "('08|13', 'FAST')"),  # both match 08/FAST
])
def test_partial_overlaps_warn(write_mapping, first: str, second: str) -> None:
    """CRDS's check misses these (neither rule covers the other); certify warns."""
    report = certify_rmap(write_mapping, rmap("\n".join([rule(first, DAY1), rule(second, DAY2)])))
    assert report.ok, report.errors
    (message,) = report.warnings
    assert f"line 13: Match rule {first} overlaps {second} (line 16)" in message


def test_overlap_only_warns_for_hst(write_mapping) -> None:
    text = rmap("\n".join([rule("('06', 'FAST')", DAY1), rule("('06', '*')", DAY2)]),
                observatory="HST").replace("csst_msc_bias_0001.rmap", "hst_msc_bias_0001.rmap")
    report = certify_rmap(write_mapping, text, "hst_msc_bias_0001.rmap")
    assert report.ok, report.errors
    assert any("equal weight special case" in m for m in report.warnings)


def test_overlap_with_merging_off_is_an_error_even_for_hst(write_mapping) -> None:
    text = rmap("\n".join([rule("('06', 'FAST')", DAY1), rule("('06', '*')", DAY2)]),
                extra="\n    'merge_overlaps' : 'False',", observatory="HST")
    text = text.replace("csst_msc_bias_0001.rmap", "hst_msc_bias_0001.rmap")
    report = certify_rmap(write_mapping, text, "hst_msc_bias_0001.rmap")
    assert [m for m in report.errors if "equal weight special case" in m]


def test_overlap_of_a_file_and_a_selector_names_d5(write_mapping) -> None:
    text = rmap("\n".join([rule("('06', 'FAST')", DAY1),
                           "    ('06', '*') : 'csst_msc_bias_0002.fits',"]))
    (message,) = certify_rmap(write_mapping, text).errors
    assert "equal weight special case" in message and "departure D5" in message


# -- UseAfter dates ------------------------------------------------------------------------------
def test_non_canonical_date_warns_d7(write_mapping) -> None:
    text = rmap(rule("('06', 'FAST')", ("2027-01-01T00:00:00", "csst_msc_bias_0001.fits")))
    report = certify_rmap(write_mapping, text)
    assert report.ok
    (message,) = report.warnings
    assert "UseAfter date '2027-01-01T00:00:00' is not canonical" in message and "D7" in message


def test_dates_whose_text_order_is_not_their_time_order(write_mapping) -> None:
    dates = (("2027-01-01 13:00:00", "csst_msc_bias_0001.fits"),
             ("2027-01-01T12:00:00", "csst_msc_bias_0002.fits"))
    errors = certify_rmap(write_mapping, rmap(rule("('06', 'FAST')", *dates))).errors
    assert [m for m in errors if "'2027-01-01 13:00:00' sorts before '2027-01-01T12:00:00'" in m
            and "wrong file" in m], errors


def test_bad_equal_and_unsorted_dates(write_mapping) -> None:
    bad = rmap(rule("('06', 'FAST')", ("2027-02-30 00:00:00", "csst_msc_bias_0001.fits")))
    assert [m for m in certify_rmap(write_mapping, bad).errors
            if "UseAfter date '2027-02-30 00:00:00' is not a date" in m]
    same = rmap(rule("('06', 'FAST')", DAY1, ("2027-01-01T00:00:00", "x.fits")))
    assert [m for m in certify_rmap(write_mapping, same).errors if "is the same time as" in m]
    unsorted = certify_rmap(write_mapping, rmap(rule("('06', 'FAST')", DAY2, DAY1)))
    assert unsorted.ok
    assert [m for m in unsorted.warnings if "not in sorted order" in m]


# -- departures and header checks ----------------------------------------------------------------
@pytest.mark.parametrize("key, words", [
    ("('# >5 #', 'FAST')", "D1"),
    ("('#>1 and <3 and <2#', 'FAST')", "D2"),
])
def test_relational_key_departures(write_mapping, key: str, words: str) -> None:
    report = certify_rmap(write_mapping, rmap(rule(key, DAY1)))
    assert report.ok, report.errors
    assert [m for m in report.warnings if words in m]


@pytest.mark.parametrize("extra, words, ok", [
    ("\n    'rmap_omit' : 'True',", "D3", True),
    ("\n    'rmap_relevance' : 'DETECTOR == \"06\"',", "D3", True),
    ("\n    'hooks' : {'precondition_header' : 'none'},", "'hooks'", True),
    ("\n    'reffile_required' : 'MAYBE',", "reffile_required", True),
    ("\n    'classes' : ('Match',),", "'classes' has 1 entries", False),
    ("\n    'classes' : {'a' : 'b'},", "names unknown selectors", False),
    ("\n    'reference_to_dataset' : {'CCD' : 'CHIP'},", "not a parkey", False),
])
def test_header_checks(write_mapping, extra: str, words: str, ok: bool) -> None:
    report = certify_rmap(write_mapping, rmap(rule("('06', 'FAST')", DAY1), extra=extra))
    assert report.ok is ok, report.errors
    assert [m for m in (report.warnings if ok else report.errors) if words in m], report


def test_temp_omit_and_bad_terminals(write_mapping) -> None:
    text = rmap("\n".join([rule("('06', 'FAST')", DAY1), "    ('08', 'N/A') : 'temp_omit',",
                           "    ('13', 'N/A') : 42,"]))
    report = certify_rmap(write_mapping, text)
    assert [m for m in report.warnings if "D4" in m]
    assert [m for m in report.errors if "line 17: the result 42 must be a file name" in m]


def test_key_of_wrong_length_and_engine_load_failures(write_mapping) -> None:
    text = rmap(rule("('06', 'FAST', 'X')", DAY1))
    assert [m for m in certify_rmap(write_mapping, text).errors if "wrong length" in m]
    versions = rmap("    ('06', 'FAST') : VersionAfter({\n        'abc' : 'f.fits',\n    }),")
    assert [m for m in certify_rmap(write_mapping, versions).errors if "does not load" in m]


def test_unknown_instrument_and_type(write_mapping) -> None:
    text = rmap(rule("('06', 'FAST')", DAY1)).replace("'BIAS'", "'FRINGE'")
    report = certify_rmap(write_mapping, text)
    assert report.ok and [m for m in report.warnings if "'fringe' has no MSC constraints" in m]
    wrong = rmap(rule("('06', 'FAST')", DAY1)).replace("'MSC'", "'WFC3'")
    assert [m for m in certify_rmap(write_mapping, wrong).errors
            if "instrument 'WFC3' is not a CSST instrument" in m]


def test_context_entries(write_mapping) -> None:
    imap = write_mapping("csst_msc_0001.imap", """
        header = {
            'derived_from' : 'generated',
            'instrument' : 'MSC',
            'mapping' : 'INSTRUMENT',
            'name' : 'csst_msc_0001.imap',
            'observatory' : 'CSST',
            'parkey' : ('REFTYPE',),
            'sha1sum' : '',
        }

        selector = {
            'bias' : 'csst_msc_dark_0001.rmap',
            'dark' : 'csst_msc_dark_0001.imap',
            'flat' : 'N/A',
        }
        """)
    pmap = write_mapping("csst_0001.pmap", """
        header = {
            'derived_from' : 'generated',
            'mapping' : 'PIPELINE',
            'name' : 'csst_0001.pmap',
            'observatory' : 'CSST',
            'parkey' : ('INSTRUME',),
            'sha1sum' : '',
        }

        selector = {
            'MSC' : 'csst_msc_0001.imap',
            'MCI' : 'N/A',
            'ACS' : 'csst_acs_0001.imap',
        }
        """)
    imap_errors, pmap_errors = (f.errors for f in certify_files([imap, pmap]).files)
    assert [m for m in imap_errors if "entry 'bias' names 'csst_msc_dark_0001.rmap', an rmap "
            "of type 'dark'" in m]
    assert [m for m in imap_errors if "entry 'dark' names 'csst_msc_dark_0001.imap', which is "
            "not a .rmap file" in m]
    assert len(imap_errors) == 2
    assert [m for m in pmap_errors if "entry 'MCI' is 'N/A'" in m]
    assert [m for m in pmap_errors if "'ACS' is not a CSST instrument" in m]


# -- references named but not present --------------------------------------------------------------
def test_references_named_but_not_present(clean_cache: Path) -> None:
    path = clean_cache / "mappings" / "csst" / "csst_msc_bias_0001.rmap"
    (clean_cache / "references" / "csst" / "msc" / "csst_msc_bias_0002.fits").unlink()
    (message,) = one(certify_files([path], cache=clean_cache)).errors
    assert message.startswith(f"{path}: names the reference csst_msc_bias_0002.fits, which is "
                              "not in the cache")
    assert certify_files([path], cache=clean_cache, check_references_present=False).ok
    assert certify_files([path]).ok  # no cache: nothing to compare with
