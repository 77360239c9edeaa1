"""``csst_crds_plugin.crds_api`` answers as the CRDS library does, on the real JWST context."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from csst_crds_plugin import crds_api

HERE = Path(__file__).resolve().parent

def _through_crds(crds: Any, cache: Path, calls: list[list[Any]],
                  tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "calls.json"
    path.write_text(json.dumps(calls), encoding="utf-8")
    out = crds(cache, str(HERE / "crds_child.py"), str(cache), str(path))
    return json.loads(out.strip().splitlines()[-1])


def _through_plugin(calls: list[list[Any]]) -> list[dict[str, Any]]:
    answers = []
    for function, args, kwargs in calls:
        try:
            value = getattr(crds_api, function)(*args, **kwargs)
        except Exception as exc:  # compared by kind with CRDS's exception
            answers.append({"raises": type(exc).__name__})
            continue
        answers.append({"value": json.loads(json.dumps(value))})
    return answers


def _same(theirs: dict[str, Any], mine: dict[str, Any], every_type: bool = False) -> bool:
    """Tell whether the answers agree; with `every_type` (reftypes=None) ours may hold more types.

    CRDS with the jwst package installed narrows reftypes=None to the types of the exposure's
    pipeline; the engine gives every type of the instrument (a documented departure).
    """
    if "raises" in theirs or "raises" in mine:
        return "raises" in theirs and "raises" in mine
    a, b = theirs["value"], mine["value"]
    if not isinstance(a, dict) or not isinstance(b, dict):
        return a == b
    if every_type and a.keys() <= b.keys():
        b = {key: b[key] for key in a}
    if a.keys() != b.keys():
        return False
    for key, value in a.items():
        other = b[key]
        failed = [isinstance(v, str) and v.startswith("NOT FOUND") and v != "NOT FOUND n/a"
                  for v in (value, other)]
        if failed[0] or failed[1]:
            if failed != [True, True]:
                return False
            if value == "NOT FOUND No match found." and other != value:
                return False
        elif value != other:
            return False
    return True


def test_the_same_calls_give_the_same_answers(jwst_cache, crds, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    cache, cases = jwst_cache
    calls: list[list[Any]] = [["get_context_name", ["jwst"], {}],
                              ["get_context_name", ["jwst", "jwst_0541.pmap"], {}],
                              ["get_context_name", ["jwst", "latest"], {}]]
    for case in cases:
        arguments = [case["parameters"], case["reftypes"]]
        keywords = {"context": case["context"], "observatory": "jwst"}
        calls.append(["getrecommendations", arguments, keywords])
        calls.append(["getreferences", arguments, keywords])
    for case in cases[:40]:  # every type of the instrument
        calls.append(["getrecommendations", [case["parameters"]], {"observatory": "jwst"}])
    theirs = _through_crds(crds, cache, calls, tmp_path)
    monkeypatch.setenv("CSST_CRDS_PATH", str(cache))
    mine = _through_plugin(calls)
    # paths differ only by the cache root, which is the same here
    differ = [(call, t, m) for call, t, m in zip(calls, theirs, mine, strict=True)
              if not _same(t, m, every_type=len(call[1]) == 1)]
    assert not differ, differ[:3]
    outcomes = [t for t in theirs if "value" in t and isinstance(t["value"], dict)]
    paths = [v for t in outcomes for v in t["value"].values()
             if isinstance(v, str) and v.startswith(str(cache))]
    assert paths, "getreferences returned cache paths"
    assert any("raises" in t for t in theirs), "some calls fail in both"
    assert any("NOT FOUND n/a" in t.get("value", {}).values() for t in outcomes
               if isinstance(t.get("value"), dict))


def test_default_context_is_the_caches(jwst_cache, crds, monkeypatch: pytest.MonkeyPatch,
                                       tmp_path: Path) -> None:
    cache, _ = jwst_cache
    [theirs] = _through_crds(crds, cache, [["get_context_name", ["jwst"], {}]], tmp_path)
    monkeypatch.setenv("CSST_CRDS_PATH", str(cache))
    assert crds_api.get_default_context("jwst") == theirs["value"] == "jwst_0541.pmap"
    assert crds_api.get_default_context("jwst", "build") == "jwst_0541.pmap"
    monkeypatch.setenv("CRDS_CONTEXT", "jwst_0540.pmap")
    assert crds_api.get_context_name("jwst") == "jwst_0540.pmap"
    assert crds_api.get_context_name("jwst", "jwst_0541.pmap") == "jwst_0541.pmap"


def test_the_demo_cache_through_the_crds_calls(demo_run: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    cache = demo_run / "cache"
    monkeypatch.setenv("CSST_CRDS_PATH", str(cache))
    exposure = {"INSTRUME": "MSC", "DETECTOR": "06", "READMODE": "FAST", "FILTER": "y",
                "DATE-OBS": "2027-01-02", "TIME-OBS": "10:00:00"}
    names = crds_api.getrecommendations(exposure, ["bias", "flat"])
    assert names == {"bias": "csst_msc_bias_0007.fits", "flat": "csst_msc_flat_0007.fits"}
    paths = crds_api.getreferences(exposure, ["bias", "flat"])
    assert {k: Path(v).name for k, v in paths.items()} == names
    assert all(Path(v).is_file() and Path(v).is_relative_to(cache) for v in paths.values())
    assert crds_api.get_default_context() == crds_api.get_context_name("csst") == \
        json.loads((cache / "config" / "csst" / "contexts.json").read_text())["operational"]
    early = dict(exposure, **{"DATE-OBS": "2020-01-01"})
    assert crds_api.getrecommendations(early, ["bias"])["bias"].startswith("NOT FOUND")
    with pytest.raises(LookupError):
        crds_api.getreferences(early, ["bias"])
