"""Fixtures for certify tests.

Reference files are written with astropy, asdf, json, yaml and tomli_w (not with the code under
test); a small CSST cache has certify-clean rules.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asdf
import numpy as np
import pytest
import tomli_w
import yaml
from astropy.io import fits

from csst_crds_plugin.rules import set_sha1sum

GOOD_HEADER: dict[str, Any] = {
    "TELESCOP": "CSST", "INSTRUME": "MSC", "REFTYPE": "BIAS", "DETECTOR": "06",
    "FILTER": "y", "READMODE": "FAST", "USEAFTER": "2027-01-01T00:00:00",
    "PEDIGREE": "INFLIGHT 2027-01-01 2027-01-02", "DESCRIP": "daily superbias",
    "AUTHOR": "calibration pipeline",
}

WriteFile = Callable[..., Path]


@pytest.fixture
def write_mapping(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write dedented mapping text under tmp_path, with a correct sha1sum when it has one."""

    def write(name: str, body: str) -> Path:
        text = textwrap.dedent(body).lstrip("\n")
        if "'sha1sum'" in text:
            text = set_sha1sum(text)
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def write_fits(tmp_path: Path) -> WriteFile:
    """Return a writer of FITS references.

    Each has a primary header from GOOD_HEADER + overrides (minus `drop`), then SCI/ERR/DQ image
    extensions (`sci`, `err`, `dq` replace the 4×4 defaults; None omits).
    """

    def write(name: str = "csst_msc_bias_0001.fits", *, drop: tuple[str, ...] = (),
              folder: Path | None = None, sci: Any = "default", err: Any = "default",
              dq: Any = "default", **overrides: Any) -> Path:
        primary = fits.PrimaryHDU()
        for key, value in {**GOOD_HEADER, **overrides}.items():
            if key not in drop:
                primary.header[key] = value
        hdus = [primary]
        defaults = {"SCI": np.ones((4, 4), np.float32), "ERR": np.zeros((4, 4), np.float32),
                    "DQ": np.zeros((4, 4), np.uint32)}
        for extname, given in (("SCI", sci), ("ERR", err), ("DQ", dq)):
            data = defaults[extname] if isinstance(given, str) else given
            if data is not None:
                hdus.append(fits.ImageHDU(data, name=extname))
        path = (folder or tmp_path) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        fits.HDUList(hdus).writeto(path, overwrite=True)
        return path

    return write


@pytest.fixture
def write_asdf(tmp_path: Path) -> WriteFile:
    """Return a writer of ASDF references like a model's: nested ``meta``, data/err/dq arrays."""

    def write(name: str = "csst_msc_dark_0001.asdf", *, meta: dict[str, Any] | None = None,
              data: Any = None) -> Path:
        tree: dict[str, Any] = {
            "meta": meta if meta is not None else {
                "telescope": "CSST", "reftype": "DARK",
                "instrument": {"name": "MSC", "detector": "06", "filter": "y",
                               "readmode": "FAST"},
                "useafter": "2027-01-02T00:00:00", "pedigree": "GROUND",
                "description": "superdark", "author": "pipeline",
                "ref_file": {"bias": {"name": "csst_msc_bias_0001.fits"}},
            },
            "data": np.ones((4, 4), np.float32) if data is None else data,
            "err": np.zeros((4, 4), np.float32),
            "dq": np.zeros((4, 4), np.uint32),
        }
        path = tmp_path / name
        asdf.AsdfFile(tree).write_to(path)
        return path

    return write


@pytest.fixture
def write_document(tmp_path: Path) -> WriteFile:
    """Return a writer of JSON, YAML or TOML references (by extension): ``meta`` plus arrays."""

    def write(name: str, meta: dict[str, Any], **arrays: Any) -> Path:
        tree = {"meta": meta, **arrays}
        path = tmp_path / name
        if path.suffix == ".json":
            path.write_text(json.dumps(tree), encoding="utf-8")
        elif path.suffix == ".toml":
            path.write_bytes(tomli_w.dumps(tree).encode())
        else:
            path.write_text(yaml.safe_dump(tree), encoding="utf-8")
        return path

    return write


@pytest.fixture
def good_header() -> dict[str, Any]:
    """Return a copy of the keywords of a valid MSC bias of chip 06."""
    return dict(GOOD_HEADER)


PMAP = """
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
}
"""

IMAP = """
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
    'bias' : 'csst_msc_bias_0001.rmap',
    'flat' : 'csst_msc_flat_0001.rmap',
    'mask' : 'N/A',
}
"""

BIAS_RMAP = """
header = {
    'derived_from' : 'generated',
    'filekind' : 'BIAS',
    'instrument' : 'MSC',
    'mapping' : 'REFERENCE',
    'name' : 'csst_msc_bias_0001.rmap',
    'observatory' : 'CSST',
    'parkey' : (('DETECTOR', 'READMODE'), ('DATE-OBS', 'TIME-OBS')),
    'sha1sum' : '',
}

selector = Match({
    ('06', 'FAST') : UseAfter({
        '2027-01-01 00:00:00' : 'csst_msc_bias_0001.fits',
        '2027-01-02 00:00:00' : 'csst_msc_bias_0002.fits',
    }),
    ('08', 'N/A') : UseAfter({
        '2027-01-01 00:00:00' : 'csst_msc_bias_0003.fits',
    }),
})
"""

FLAT_RMAP = """
header = {
    'derived_from' : 'generated',
    'filekind' : 'FLAT',
    'instrument' : 'MSC',
    'mapping' : 'REFERENCE',
    'name' : 'csst_msc_flat_0001.rmap',
    'observatory' : 'CSST',
    'parkey' : (('DETECTOR', 'FILTER'), ('DATE-OBS', 'TIME-OBS')),
    'sha1sum' : '',
}

selector = Match({
    ('06', 'y') : UseAfter({
        '2027-01-01 00:00:00' : 'csst_msc_flat_0001.fits',
    }),
    ('01|10', 'GI') : UseAfter({
        '2027-01-01 00:00:00' : 'csst_msc_flat_0002.fits',
    }),
})
"""


@pytest.fixture
def clean_cache(cache_builder: Callable[..., Path], write_fits: WriteFile) -> Path:
    """Return a certify-clean CSST cache: pmap → MSC imap → bias and flat rmaps, real FITS files."""
    root = cache_builder(
        mappings={"csst_0001.pmap": PMAP, "csst_msc_0001.imap": IMAP,
                  "csst_msc_bias_0001.rmap": BIAS_RMAP, "csst_msc_flat_0001.rmap": FLAT_RMAP},
        config={"server_config": "{'observatory': 'csst', 'operational_context': "
                                 "'csst_0001.pmap'}\n"},
    )
    folder = root / "references" / "csst" / "msc"
    write_fits("csst_msc_bias_0001.fits", folder=folder)
    write_fits("csst_msc_bias_0002.fits", folder=folder, USEAFTER="2027-01-02T00:00:00")
    write_fits("csst_msc_bias_0003.fits", folder=folder, DETECTOR="08", FILTER="g",
               READMODE="N/A")
    flat = {"REFTYPE": "FLAT", "R_BIAS": "csst_msc_bias_0001.fits",
            "R_DARK": "csst_msc_dark_0001.fits"}
    write_fits("csst_msc_dark_0001.fits", folder=folder, REFTYPE="DARK",
               R_BIAS="csst_msc_bias_0001.fits")
    write_fits("csst_msc_flat_0001.fits", folder=folder, **flat)
    write_fits("csst_msc_flat_0002.fits", folder=folder, DETECTOR="01", FILTER="GI", **flat)
    return root
