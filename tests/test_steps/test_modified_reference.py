"""A pipeline run refuses a reference modified in place (same size), naming the file."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from stpipe import Step

from csst_crds_plugin.cli.main import main as csst_crds
from csst_crds_plugin.errors import ModifiedReferenceError


def test_a_pipeline_run_refuses_a_modified_reference(level1_cache: Path, raw_path: Path,
                                                      tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "cache"
    shutil.copytree(level1_cache, root)
    assert csst_crds(["checksum", "--cache", str(root)]) == 0  # record the manifest
    monkeypatch.setenv("CSST_CRDS_PATH", str(root))
    dark = root / "references" / "csst" / "msc" / "csst_msc_dark_0002.fits"
    with dark.open("r+b") as stream:  # one byte of the data, same size
        stream.seek(dark.stat().st_size - 2880 - 7)
        byte = stream.read(1)
        stream.seek(-1, os.SEEK_CUR)
        stream.write(bytes([byte[0] ^ 0x40]))
    with pytest.raises(ModifiedReferenceError) as raised:
        Step.from_cmdline(["csst_level1", str(raw_path), "--output_dir", str(tmp_path / "out")])
    assert str(dark) in str(raised.value)
    assert "--verify --repair" in str(raised.value)
    assert not (tmp_path / "out" / "exposure_L1.fits").exists()
