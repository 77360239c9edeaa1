"""deliver: the whole submission as one transaction, dependencies, refusals leave no trace."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from csst_crds_plugin import ReferenceProvider
from csst_crds_plugin.cache import CacheLayout, digest_file, read_manifest
from csst_crds_plugin.cli.main import main
from csst_crds_plugin.errors import CsstCrdsError
from csst_crds_plugin.rules import parse_mapping
from csst_crds_plugin.tools.certify import certify_context
from csst_crds_plugin.tools.delivery import (
    DeliveryError,
    DependencyError,
    InsertionError,
    add_reference_types,
    deliver,
)

CHIPS = {"06": "y", "08": "g", "13": "NUV", "14": "u", "01": "GI", "03": "GU"}
DAYS = ("2027-01-01", "2027-01-02", "2027-01-03")


def _pmap_chain(root: Path, last: str) -> list[str]:
    """Return the contexts from `last` back to the first, following derived_from."""
    chain = [last]
    while True:
        text = (root / "mappings" / "csst" / chain[-1]).read_text(encoding="utf-8")
        parent = str(parse_mapping(text, chain[-1]).header_dict()["derived_from"])
        if not parent.endswith(".pmap"):
            return chain
        chain.append(parent)


def test_three_days_of_six_chips_with_dependencies(rules_cache: Path,
                                                   make_reference: Any) -> None:
    """Must-hold: 3 days x 6 chips x bias/dark/flat; each selected for its chip and day."""
    delivered: dict[tuple[str, str, str], str] = {}
    contexts = ["csst_0001.pmap"]
    for day in DAYS:
        useafter = f"{day}T00:00:00"
        files = {chip: make_reference(f"bias_{chip}_{day}.fits", "bias", chip, useafter,
                                      READMODE="N/A") for chip in CHIPS}
        result = deliver(rules_cache, files.values(), description=f"biases {day}")
        contexts.append(result.context)
        for chip, path in files.items():
            delivered[(day, chip, "bias")] = result.names[str(path)]
        files = {chip: make_reference(f"dark_{chip}_{day}.fits", "dark", chip, useafter,
                                      R_BIAS=delivered[(day, chip, "bias")])
                 for chip in CHIPS}
        result = deliver(rules_cache, files.values())
        contexts.append(result.context)
        for chip, path in files.items():
            delivered[(day, chip, "dark")] = result.names[str(path)]
        files = {chip: make_reference(f"flat_{chip}_{day}.fits", "flat", chip, useafter,
                                      R_BIAS=delivered[(day, chip, "bias")],
                                      R_DARK=delivered[(day, chip, "dark")])
                 for chip in CHIPS}
        result = deliver(rules_cache, files.values(), activate=day == DAYS[-1])
        contexts.append(result.context)
        for chip, path in files.items():
            delivered[(day, chip, "flat")] = result.names[str(path)]

    assert contexts == [f"csst_{i:04d}.pmap" for i in range(1, 11)]
    assert _pmap_chain(rules_cache, contexts[-1]) == contexts[::-1]
    for context in contexts:
        report = certify_context(rules_cache, context)
        assert report.ok, report.errors
    # unique names: one series per type, in delivery order
    assert sorted(n for k, n in delivered.items() if k[2] == "dark") == [
        f"csst_msc_dark_{i:04d}.fits" for i in range(1, 19)]
    provider = ReferenceProvider(cache=rules_cache)
    assert provider.context == contexts[-1]  # activated
    for (day, chip, reftype), name in delivered.items():
        exposure = {"INSTRUME": "MSC", "DETECTOR": chip, "FILTER": CHIPS[chip],
                    "READMODE": "FAST", "DATE-OBS": day, "TIME-OBS": "10:00:00"}
        assert provider.best_references(exposure, [reftype])[reftype].value == name
        assert Path(provider.get_reference_file(exposure, reftype)).name == name
    manifest = read_manifest(CacheLayout(rules_cache, "csst"))
    for name in delivered.values():
        path = rules_cache / "references" / "csst" / "msc" / name
        assert manifest[name] == digest_file(path)


def test_bestrefs_command_selects_a_delivery(rules_cache: Path, make_reference: Any,
                                             tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    result = deliver(rules_cache, [make_reference("b.fits", "bias", "13", READMODE="FAST")])
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps({"id": "x", "parameters": {
        "INSTRUME": "MSC", "DETECTOR": "13", "READMODE": "FAST", "DATE-OBS": "2027-02-01",
        "TIME-OBS": "00:00:00"}, "reftypes": ["bias"]}) + "\n", encoding="utf-8")
    assert main(["bestrefs", "--cache", str(rules_cache), "--context", result.context,
                 "--headers", str(cases), "--format", "jsonl"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line == {"id": "x", "results": {"bias": "csst_msc_bias_0001.fits"}}


def test_a_dependency_not_in_the_cache_is_refused(rules_cache: Path, make_reference: Any,
                                                  snapshot: Callable[[Path], dict[str, bytes]],
                                                  leftover_temps: Callable[[Path], list[Path]]
                                                  ) -> None:
    bias = deliver(rules_cache, [make_reference("b.fits")]).names
    before = snapshot(rules_cache)
    dark = make_reference("d.fits", "dark", R_BIAS="csst_msc_bias_0099.fits")
    with pytest.raises(DependencyError, match=r"d\.fits: R_BIAS='csst_msc_bias_0099.fits' is "
                                              r"neither a reference in the cache"):
        deliver(rules_cache, [dark])
    flat = make_reference("f.fits", "flat", R_BIAS=next(iter(bias.values())))
    with pytest.raises(DependencyError, match=r"f\.fits: a flat must name the reference it "
                                              r"was built from in R_DARK"):
        deliver(rules_cache, [flat])
    assert snapshot(rules_cache) == before
    assert leftover_temps(rules_cache) == []


@pytest.mark.parametrize(("keywords", "error", "message"), [
    ({"DETECTOR": "06", "FILTER": "g"}, DeliveryError, r"bad\.fits.*FILTER"),
    ({"USEAFTER": "01/02/2027"}, DeliveryError, r"bad\.fits.*USEAFTER"),
    ({"READMODE": None}, DeliveryError, r"bad\.fits.*READMODE"),
])
def test_certify_refusals_publish_nothing(rules_cache: Path, make_reference: Any,
                                          snapshot: Callable[[Path], dict[str, bytes]],
                                          keywords: dict[str, object], error: type[Exception],
                                          message: str) -> None:
    good = make_reference("good.fits", detector="08")
    bad = make_reference("bad.fits", **keywords)
    before = snapshot(rules_cache)
    with pytest.raises(error, match=message):
        deliver(rules_cache, [good, bad])
    assert snapshot(rules_cache) == before


def test_failures_after_naming_are_undone(rules_cache: Path, make_reference: Any,
                                         snapshot: Callable[[Path], dict[str, bytes]],
                                         leftover_temps: Callable[[Path], list[Path]]) -> None:
    first = deliver(rules_cache, [make_reference("first.fits", READMODE="FAST")])
    before = snapshot(rules_cache)
    # two files of one submission at one match path: refused, whichever step notices
    one = make_reference("one.fits", detector="08")
    two = make_reference("two.fits", detector="08")
    with pytest.raises(CsstCrdsError, match=r"two\.fits"):
        deliver(rules_cache, [one, two])
    assert snapshot(rules_cache) == before
    # the new context fails certify after its files were written: a reference it names is gone
    missing = rules_cache / "references" / "csst" / "msc" / next(iter(first.names.values()))
    missing.unlink()
    before = snapshot(rules_cache)
    with pytest.raises(DeliveryError, match=r"certify refused the new context csst_0003\.pmap"
                                            r".*csst_msc_bias_0001\.fits"):
        deliver(rules_cache, [make_reference("dark.fits", "dark", R_BIAS="N/A")])
    assert snapshot(rules_cache) == before
    assert leftover_temps(rules_cache) == []


def test_identical_content_is_refused(rules_cache: Path, make_reference: Any) -> None:
    path = make_reference("b.fits")
    name = deliver(rules_cache, [path]).names[str(path)]
    copy = path.with_name("again.fits")
    copy.write_bytes(path.read_bytes())
    with pytest.raises(DeliveryError, match=f"again.fits: identical to {name}"):
        deliver(rules_cache, [copy])


def test_replacing_the_same_date_is_reported(rules_cache: Path, make_reference: Any) -> None:
    first = deliver(rules_cache, [make_reference("a.fits")])
    second = deliver(rules_cache, [make_reference("b.fits")])
    assert second.replaced == {"csst_msc_bias_0002.fits": "csst_msc_bias_0001.fits"}
    assert first.context == "csst_0002.pmap" and second.context == "csst_0003.pmap"


def test_deliver_command(rules_cache: Path, make_reference: Any,
                         capsys: pytest.CaptureFixture[str]) -> None:
    path = make_reference("b.fits", detector="14")
    assert main(["deliver", "--cache", str(rules_cache), str(path), "--activate",
                 "--description", "chip 14"]) == 0
    out = capsys.readouterr().out
    assert f"csst_msc_bias_0001.fits  <-  {path}" in out
    assert "new context csst_0002.pmap (latest, operational; derived from csst_0001.pmap)" in out
    config = json.loads((rules_cache / "config" / "csst" / "contexts.json").read_text())
    assert config["history"][-1]["description"] == "chip 14"
    other = make_reference("c.fits", detector="13")
    assert main(["deliver", "--cache", str(rules_cache), str(other), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["names"] == {str(other): "csst_msc_bias_0002.fits"}
    assert report["mappings"] == ["csst_msc_bias_0003.rmap", "csst_msc_0003.imap",
                                  "csst_0003.pmap"]
    assert not report["activated"]
    assert main(["deliver", "--cache", str(rules_cache), str(other)]) == 1
    assert "identical to csst_msc_bias_0002.fits" in capsys.readouterr().err


def test_delivery_into_an_unknown_type_or_empty_cache(tmp_path: Path,
                                                     make_reference: Any) -> None:
    with pytest.raises(DeliveryError, match="has no context to deliver into"):
        deliver(tmp_path / "empty", [make_reference("b.fits")])
    with pytest.raises(DeliveryError, match=r"x\.fits: .*no .*'?gain'? "):
        add_reference_types(tmp_path / "c", ["msc:bias"])
        deliver(tmp_path / "c", [make_reference("x.fits", "gain")])


def test_a_toml_reference_is_delivered_like_fits(rules_cache: Path, tmp_path: Path) -> None:
    import tomli_w

    add_reference_types(rules_cache, ["msc:crosstalk"])
    meta = {"TELESCOP": "CSST", "INSTRUME": "MSC", "REFTYPE": "CROSSTALK", "DETECTOR": "08",
            "FILTER": "g", "READMODE": "N/A", "USEAFTER": "2027-03-01T00:00:00",
            "PEDIGREE": "GROUND", "DESCRIP": "crosstalk", "AUTHOR": "delivery tests"}
    path = tmp_path / "xtalk.toml"
    coefficients = [[0.001 * (i == j) for j in range(16)] for i in range(16)]
    path.write_bytes(tomli_w.dumps({"meta": meta, "coefficients": coefficients}).encode())
    result = deliver(rules_cache, [path])
    assert result.names == {str(path): "csst_msc_crosstalk_0001.toml"}
    provider = ReferenceProvider(cache=rules_cache, context=result.context)
    exposure = {"INSTRUME": "MSC", "DETECTOR": "08", "DATE-OBS": "2027-03-02",
                "TIME-OBS": "00:00:00"}
    found = Path(provider.get_reference_file(exposure, "crosstalk"))
    assert found.read_bytes() == path.read_bytes()


def test_a_conflict_arising_while_waiting_is_undone(
        rules_cache: Path, make_reference: Any, monkeypatch: pytest.MonkeyPatch,
        snapshot: Callable[[Path], dict[str, bytes]],
        leftover_temps: Callable[[Path], list[Path]]) -> None:
    """Another delivery lands between this one's certify and its turn under the lock."""
    module = importlib.import_module("csst_crds_plugin.tools.delivery.deliver")
    mine = make_reference("mine.fits", READMODE="FAST")
    theirs = make_reference("theirs.fits", READMODE="*", USEAFTER="2026-06-01T00:00:00")
    real = module.certify_files
    state: dict[str, dict[str, bytes]] = {}

    def certify_then_let_another_delivery_land(*args: Any, **kwargs: Any) -> Any:
        report = real(*args, **kwargs)
        monkeypatch.setattr(module, "certify_files", real)
        deliver(rules_cache, [theirs])
        state["after"] = snapshot(rules_cache)
        return report

    monkeypatch.setattr(module, "certify_files", certify_then_let_another_delivery_land)
    with pytest.raises(InsertionError, match=r"mine\.fits: Match case \('06', 'FAST'\) would be "
                                             r"an equal-weight special case of the existing "
                                             r"case \('06', '\*'\)"):
        deliver(rules_cache, [mine])
    assert snapshot(rules_cache) == state["after"]
    assert leftover_temps(rules_cache) == []


def test_a_refused_delivery_says_it_in_one_line_then_lists_every_error(tmp_path: Path) -> None:
    from csst_crds_plugin.tools.certify import CertifyReport, FileReport
    from csst_crds_plugin.tools.delivery.publish import refuse_report

    report = CertifyReport([FileReport("a.fits", "reference", ["a.fits: no USEAFTER",
                                                                "a.fits: no FILTER"], []),
                            FileReport("b.fits", "reference", ["b.fits: no USEAFTER"], [])])
    with pytest.raises(DeliveryError) as caught:
        refuse_report("the delivery", report)
    first, *rest = str(caught.value).splitlines()
    assert first == ("certify refused the delivery: 3 errors in 2 file(s), the first: a.fits: no "
                     "USEAFTER (`csst-crds certify FILES` prints them all)")
    assert rest == ["a.fits: no USEAFTER", "a.fits: no FILTER", "b.fits: no USEAFTER"]
