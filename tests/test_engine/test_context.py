"""rmap header semantics through the provider: expressions, departures, required keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from csst_crds_plugin import NOT_APPLICABLE, ReferenceProvider, RuleSyntaxError

RMAP = """
header = {{
    'derived_from' : 'generated',
    'filekind' : 'BIAS',
    'instrument' : 'MSC',
    'mapping' : 'REFERENCE',
    'name' : 'csst_msc_bias_0001.rmap',
    'observatory' : 'CSST',
    'parkey' : (('DETECTOR',),),
    'extra_keys' : ('OBSTYPE',),
    'sha1sum' : '',
{extra}}}

selector = Match({{
    '06' : {choice!r},
    '08' : 'csst_msc_bias_0002.fits',
}})
"""


@pytest.fixture
def texts(tiny_texts: dict[str, str]) -> dict[str, str]:
    return tiny_texts


def _cache(cache_builder, extra: str = "", choice: str = "csst_msc_bias_0001.fits",
           texts: dict[str, str] | None = None) -> Path:
    assert texts is not None
    imap = texts["csst_msc_0001.imap"].replace("    'gain' : 'csst_msc_gain_0001.rmap',\n", "")
    return cache_builder(mappings={
        "csst_0001.pmap": texts["csst_0001.pmap"], "csst_msc_0001.imap": imap,
        "csst_msc_bias_0001.rmap": RMAP.format(extra=extra, choice=choice),
    })


def _bias(root: Path, **params: str) -> object:
    provider = ReferenceProvider(cache=root, context="csst_0001.pmap")
    result = provider.best_references({"INSTRUME": "MSC", **params}, ["bias"])
    return result["bias"].value if "bias" in result else "omitted"


@pytest.mark.parametrize("expression", [
    "(__import__('os').system('true'))", "(DETECTOR.upper() == '6.0')", "(len(DETECTOR) > 1)",
    "(lambda: 1)", "([x for x in DETECTOR])", "(DETECTOR + 'x' == 'y')",
])
def test_header_expressions_are_never_executed(cache_builder, texts, expression: str) -> None:
    root = _cache(cache_builder, texts=texts, extra=f"    'rmap_relevance' : {expression!r},\n")
    with pytest.raises(RuleSyntaxError, match="header field 'rmap_relevance'") as info:
        _bias(root, DETECTOR="06")
    assert info.value.path.endswith("csst_msc_bias_0001.rmap")
    assert "'rmap_relevance'" in info.value.source_line


def test_relevance_and_omit(cache_builder, texts) -> None:
    root = _cache(cache_builder, texts=texts,
                  extra="    'rmap_relevance' : '(OBSTYPE != \"BIAS\")',\n"
                        "    'rmap_omit' : '(OBSTYPE == \"DARK\")',\n")
    assert _bias(root, DETECTOR="06", OBSTYPE="SCI") == "csst_msc_bias_0001.fits"
    assert _bias(root, DETECTOR="06", OBSTYPE="BIAS") is NOT_APPLICABLE
    assert _bias(root, DETECTOR="06", OBSTYPE="DARK") == "omitted"
    assert _bias(root, DETECTOR="06") == "csst_msc_bias_0001.fits"  # OBSTYPE is UNDEFINED


def test_unparenthesised_omit_is_applied_departure_d3(cache_builder, texts) -> None:
    root = _cache(cache_builder, texts=texts, extra="    'rmap_omit' : 'True',\n")
    assert _bias(root, DETECTOR="06") == "omitted"


@pytest.mark.parametrize(("choice", "expected"), [
    ("N/A", NOT_APPLICABLE), ("TEMP_N/A", NOT_APPLICABLE), ("OMIT", "omitted"),
    ("temp_omit", "omitted"),  # departure D4
    ("Omit", "Omit"),  # exact spelling only
])
def test_special_terminals(cache_builder, texts, choice: str, expected: object) -> None:
    assert _bias(_cache(cache_builder, choice=choice, texts=texts), DETECTOR="06") == expected


def test_reffile_required_no_turns_failures_into_na(cache_builder, texts) -> None:
    root = _cache(cache_builder, texts=texts, extra="    'reffile_required' : 'NO',\n")
    assert _bias(root, DETECTOR="07") is NOT_APPLICABLE


def test_parkey_relevance_sets_na(cache_builder, texts) -> None:
    root = _cache(cache_builder, texts=texts,
                  extra="    'parkey_relevance' : {'detector' : '(OBSTYPE == \"SCI\")'},\n")
    assert _bias(root, DETECTOR="06", OBSTYPE="SCI") == "csst_msc_bias_0001.fits"
    # DETECTOR becomes N/A: both rules tie as "don't care" and give a tuple in key order
    assert _bias(root, DETECTOR="06", OBSTYPE="CAL") == (
        "csst_msc_bias_0001.fits", "csst_msc_bias_0002.fits")


def test_missing_mapping_in_closure_fails_the_whole_call(cache_builder, texts) -> None:
    imap = texts["csst_msc_0001.imap"].replace("csst_msc_gain_0001.rmap", "csst_msc_gain_0009.rmap")
    root = cache_builder(mappings={"csst_0001.pmap": texts["csst_0001.pmap"],
                                   "csst_msc_0001.imap": imap,
                                   "csst_msc_bias_0001.rmap": RMAP.format(extra="", choice="x")})
    from csst_crds_plugin import FileNotCachedError

    with pytest.raises(FileNotCachedError, match="csst_msc_gain_0009.rmap"):
        _bias(root, DETECTOR="06")
