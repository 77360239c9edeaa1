"""activate(): exact restore, nesting, CRDS-compatible errors, unknown observatories, crds.*."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import crds
import pytest
import stpipe
from crds.core import heavy_client
from crds.core.exceptions import CrdsError, CrdsLookupError
from stpipe import crds_client

from csst_crds_plugin.errors import CacheError, ConfigurationError, InvalidValueError
from csst_crds_plugin.stpipe_integration import activate, active, deactivate

ROMAN_PARAMETERS = {
    "roman.meta.instrument.name": "WFI", "roman.meta.instrument.detector": "WFI01",
    "roman.meta.exposure.start_time": "2020-01-01T00:00:00.000",
}


def _functions() -> dict[str, Any]:
    found = {f"crds_client.{n}": getattr(crds_client, n) for n in dir(crds_client)
             if callable(getattr(crds_client, n))}
    for module, label in ((crds, "crds"), (heavy_client, "heavy_client")):
        found.update({f"{label}.{n}": getattr(module, n)
                      for n in ("getreferences", "getrecommendations")})
    return found


def test_nested_activations_restore_exactly_at_the_outermost(roman: Any,
                                                             crds_cache: Path) -> None:
    before = _functions()
    outer = activate(cache=roman.cache)
    inner = activate(cache=roman.cache)
    assert active() is inner
    assert crds_client.get_reference_file is not before["crds_client.get_reference_file"]
    inner.deactivate()
    assert active() is outer
    assert crds_client.get_context_used("roman") == "roman_0001.pmap"
    outer.deactivate()
    assert active() is None
    assert _functions() == before
    deactivate()  # nothing active: a no-op
    assert _functions() == before


def test_an_unsupported_stpipe_is_refused_and_nothing_replaced(
        roman: Any, crds_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _functions()
    monkeypatch.setattr(stpipe, "__version__", "2.3.0")
    with pytest.raises(ConfigurationError, match=r"stpipe 2\.3 .*>= 0\.7, < 2\.0"):
        activate(cache=roman.cache)
    assert active() is None
    assert _functions() == before


def test_lookup_failures_are_what_the_missions_catch(roman: Any, crds_cache: Path) -> None:
    parameters = dict(ROMAN_PARAMETERS, **{"roman.meta.instrument.detector": "WFI17"})
    with activate(cache=roman.cache):
        with pytest.raises(InvalidValueError) as caught:
            crds_client.get_reference_file(parameters, "mask", "roman")
        assert isinstance(caught.value, CrdsLookupError)
        assert "WFI17" in str(caught.value)
        # stpipe's pars-* lookup takes a CrdsError as "use the defaults"
        from romancal.dq_init import DQInitStep

        assert dict(DQInitStep._get_config_from_parameters(ROMAN_PARAMETERS, "roman")) == {}
        assert crds_client.get_reference_file(ROMAN_PARAMETERS, "dark", "roman") == "N/A"


def test_crds_uris_resolve_inside_the_cache_only(roman: Any, crds_cache: Path) -> None:
    with activate(cache=roman.cache):
        assert crds_client.reference_uri_to_cache_path(
            "crds://roman_wfi_mask_0002.asdf", "roman") == str(
            roman.reference("roman_wfi_mask_0002.asdf"))
        for bad in ("crds://../../etc/passwd", "crds://a/b.asdf", "file:///etc/passwd"):
            with pytest.raises(CrdsError):
                crds_client.reference_uri_to_cache_path(bad, "roman")


def test_an_observatory_the_cache_lacks_is_a_clear_error(roman: Any, crds_cache: Path) -> None:
    parameters = {"meta.instrument.name": "NIRCAM", "meta.instrument.detector": "NRCA1"}
    with activate(cache=roman.cache):
        with pytest.raises(CacheError, match=r"holds no jwst rules .*mappings/jwst") as caught:
            crds_client.get_reference_file(parameters, "mask", "jwst")
        assert isinstance(caught.value, CrdsError)
        assert "holds: roman" in str(caught.value)


def test_crds_getreferences_is_served_while_active(roman: Any, crds_cache: Path) -> None:
    mask = str(roman.reference("roman_wfi_mask_0001.asdf"))
    with activate(cache=roman.cache):
        assert crds.getreferences(ROMAN_PARAMETERS, reftypes=["mask"],
                                  observatory="roman") == {"mask": mask}
        assert crds.getrecommendations(ROMAN_PARAMETERS, reftypes=["mask", "dark"],
                                       observatory="roman") == {
            "mask": "roman_wfi_mask_0001.asdf", "dark": "NOT FOUND n/a"}
        from crds import getreferences as bound_while_active
    assert active() is None
    with activate(cache=roman.cache):
        assert bound_while_active(ROMAN_PARAMETERS, reftypes=["mask"],
                                  observatory="roman") == {"mask": mask}


def test_romancal_skymap_lookup_is_served(roman: Any, crds_cache: Path) -> None:
    from romancal.skycell import skymap

    with activate(cache=roman.cache):
        sky = skymap.SkyMap()
        sky.model  # noqa: B018 - the property looks the reference up through crds.getreferences
    assert sky.path == roman.reference("roman_wfi_skycells_0001.asdf")


def test_a_name_bound_before_activation_still_reaches_crds(roman: Any,
                                                           crds_cache: Path) -> None:
    """Documented: ``from crds import getreferences`` run before activate() is not served."""
    bound_before = crds.getreferences
    with activate(cache=roman.cache), pytest.raises((CrdsError, SystemExit)):
        bound_before(ROMAN_PARAMETERS, reftypes=["mask"], observatory="roman")


def test_csst_strun_on_an_observatory_the_cache_lacks(kit: SimpleNamespace, roman: Any,
                                                      jwst: Any, crds_cache: Path,
                                                      tmp_path: Path) -> None:
    done = kit.run_cli(["csst-strun", "jwst.dq_init.DQInitStep", str(jwst.raw)], tmp_path,
                       roman.cache, crds_cache)
    assert done.returncode == 1
    assert "holds no jwst rules" in done.stderr
