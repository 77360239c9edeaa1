"""Dependency chains: bias, dark and flat naming each other by file name land in one delivery."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from astropy.io import fits

from csst_crds_plugin import ReferenceProvider
from csst_crds_plugin.cache import CacheLayout, digest_file, read_manifest
from csst_crds_plugin.cli.main import main
from csst_crds_plugin.tools.delivery import DependencyError, deliver

EXPOSURE = {"INSTRUME": "MSC", "DETECTOR": "06", "FILTER": "y", "READMODE": "FAST",
            "DATE-OBS": "2027-01-05", "TIME-OBS": "10:00:00"}


def _chain(make_reference: Any, chip: str = "06", prefix: str = "") -> list[Path]:
    """Make a bias, the dark made from it and the flat made from both, named by file name."""
    bias = make_reference(f"{prefix}bias.fits", "bias", chip)
    dark = make_reference(f"{prefix}dark.fits", "dark", chip, R_BIAS=bias.name)
    flat = make_reference(f"{prefix}flat.fits", "flat", chip, R_BIAS=bias.name,
                          R_DARK=dark.name)
    return [bias, dark, flat]


def _cached(root: Path, name: str) -> Path:
    found = CacheLayout(root, "csst").find_reference(name, "msc")
    assert found is not None, name
    return found


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0)])
def test_a_chain_lands_in_one_context_in_any_order(order: tuple[int, ...], rules_cache: Path,
                                                   make_reference: Any) -> None:
    files = _chain(make_reference)
    result = deliver(rules_cache, [files[i] for i in order])
    assert result.derived_from == "csst_0001.pmap"
    assert sorted(p.name for p in (rules_cache / "mappings" / "csst").glob("*.pmap")) == [
        "csst_0001.pmap", result.context]
    bias, dark, flat = (result.names[str(path)] for path in files)
    dark_header = fits.getheader(_cached(rules_cache, dark), 0)
    flat_header = fits.getheader(_cached(rules_cache, flat), 0)
    assert dark_header["R_BIAS"] == bias
    assert (flat_header["R_BIAS"], flat_header["R_DARK"]) == (bias, dark)
    # the submitted files are untouched; the manifest records the rewritten ones
    assert fits.getheader(files[1], 0)["R_BIAS"] == "bias.fits"
    manifest = read_manifest(CacheLayout(rules_cache, "csst"))
    for name in (bias, dark, flat):
        assert manifest[name] == digest_file(_cached(rules_cache, name))
    provider = ReferenceProvider(cache=rules_cache, context=result.context)
    chosen = provider.best_references(EXPOSURE, ["bias", "dark", "flat"])
    assert {t: s.value for t, s in chosen.items()} == {"bias": bias, "dark": dark,
                                                       "flat": flat}


def test_a_chain_may_also_name_a_cached_reference(rules_cache: Path,
                                                  make_reference: Any) -> None:
    cached_bias = deliver(rules_cache, [make_reference("old_bias.fits", "bias")])
    (bias,) = cached_bias.names.values()
    dark = make_reference("dark.fits", "dark", R_BIAS=bias)
    flat = make_reference("flat.fits", "flat", R_BIAS=bias, R_DARK="dark.fits")
    result = deliver(rules_cache, [flat, dark])
    header = fits.getheader(_cached(rules_cache, result.names[str(flat)]), 0)
    assert (header["R_BIAS"], header["R_DARK"]) == (bias, result.names[str(dark)])


def _refused(root: Path, files: list[Path], match: str,
             snapshot: Callable[[Path], dict[str, bytes]]) -> None:
    before = snapshot(root)
    with pytest.raises(DependencyError, match=match):
        deliver(root, files)
    assert snapshot(root) == before


def test_a_cycle_lands_nothing(rules_cache: Path, make_reference: Any, snapshot: Any) -> None:
    dark = make_reference("dark.fits", "dark", R_BIAS="flat.fits")
    flat = make_reference("flat.fits", "flat", R_BIAS="dark.fits", R_DARK="dark.fits")
    _refused(rules_cache, [dark, flat], r"cycle: (dark\.fits -> flat\.fits -> dark\.fits|"
                                        r"flat\.fits -> dark\.fits -> flat\.fits)", snapshot)


def test_a_file_naming_itself_is_a_cycle(rules_cache: Path, make_reference: Any,
                                         snapshot: Any) -> None:
    dark = make_reference("dark.fits", "dark", R_BIAS="dark.fits")
    _refused(rules_cache, [dark], r"cycle: dark\.fits -> dark\.fits", snapshot)


def test_a_missing_dependency_lands_nothing(rules_cache: Path, make_reference: Any,
                                            snapshot: Any) -> None:
    bias, dark, flat = _chain(make_reference)
    _refused(rules_cache, [bias, flat], r"flat\.fits: R_DARK='dark\.fits' is neither a "
                                        r"reference in the cache", snapshot)


def test_a_dependency_of_another_chip_lands_nothing(rules_cache: Path, make_reference: Any,
                                                    snapshot: Any) -> None:
    bias = make_reference("bias.fits", "bias", "08")
    dark = make_reference("dark.fits", "dark", "06", R_BIAS="bias.fits")
    _refused(rules_cache, [bias, dark], r"dark\.fits: R_BIAS='bias\.fits' is of DETECTOR "
                                        r"'08', but this reference has DETECTOR '06'", snapshot)


def test_the_cli_delivers_a_chain(rules_cache: Path, make_reference: Any,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    files = _chain(make_reference)
    assert main(["deliver", "--cache", str(rules_cache), *map(str, reversed(files))]) == 0
    out = capsys.readouterr().out
    assert out.count("<-") == 3 and "new context csst_0002.pmap" in out
