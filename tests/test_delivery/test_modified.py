"""A reference modified in place (same size, one byte) is never served, certified or built on."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from csst_crds_plugin import ReferenceProvider
from csst_crds_plugin.cache import CacheLayout, load_config
from csst_crds_plugin.cache.manifest import STAMPS_NAME
from csst_crds_plugin.cli.main import main
from csst_crds_plugin.errors import IntegrityError, ModifiedReferenceError
from csst_crds_plugin.tools.delivery import deliver

PARAMETERS = {"INSTRUME": "MSC", "DETECTOR": "06", "FILTER": "y", "READMODE": "N/A",
              "DATE-OBS": "2027-06-01", "TIME-OBS": "00:00:00"}


def flip_one_byte(path: Path) -> None:
    """Change one byte in the middle of the file, keeping its size."""
    with path.open("r+b") as stream:
        stream.seek(path.stat().st_size // 2)
        byte = stream.read(1)
        stream.seek(-1, os.SEEK_CUR)
        stream.write(bytes([byte[0] ^ 0x01]))


@pytest.fixture
def delivered(rules_cache: Path, make_reference: Any) -> tuple[Path, Path]:
    """(cache, path of the delivered chip-06 bias), in an activated context."""
    result = deliver(rules_cache, [make_reference("bias_06.fits", "bias", "06")], activate=True)
    name = next(iter(result.names.values()))
    return rules_cache, CacheLayout(rules_cache, "csst").locate_reference(name)


def test_a_lookup_refuses_a_fresh_same_size_change(delivered: tuple[Path, Path]) -> None:
    root, path = delivered
    provider = ReferenceProvider(cache=root)
    assert provider.get_reference_file(PARAMETERS, "bias") == str(path)
    flip_one_byte(path)
    with pytest.raises(ModifiedReferenceError) as raised:
        provider.get_reference_file(PARAMETERS, "bias")
    message = str(raised.value)
    assert str(path) in message
    assert "csst-crds sync" in message
    assert "--verify --repair" in message
    assert isinstance(raised.value, IntegrityError)


def test_a_remembered_file_is_hashed_again_once_it_changes(
        delivered: tuple[Path, Path]) -> None:
    """A file older than the timestamp window, once changed, is refused by the next lookup.

    Its state is remembered (and saved); a change to the file changes that state.
    """
    root, path = delivered
    time.sleep(2.1)
    provider = ReferenceProvider(cache=root)
    provider.get_reference_file(PARAMETERS, "bias")
    stamps = json.loads((root / "config" / "csst" / STAMPS_NAME).read_text(encoding="utf-8"))
    status = path.stat()
    assert stamps[path.name][:5] == [status.st_dev, status.st_ino, status.st_size,
                                     status.st_mtime_ns, status.st_ctime_ns]
    provider.get_reference_file(PARAMETERS, "bias")
    flip_one_byte(path)
    with pytest.raises(ModifiedReferenceError, match=path.name):
        provider.get_reference_file(PARAMETERS, "bias")
    # another process's saved stamp does not bless the changed file either
    with pytest.raises(ModifiedReferenceError, match=path.name):
        ReferenceProvider(cache=root).get_reference_file(PARAMETERS, "bias")


def test_a_read_only_cache_refuses_and_writes_nothing(delivered: tuple[Path, Path],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    root, path = delivered
    monkeypatch.setenv("CSST_CRDS_READONLY", "1")
    time.sleep(2.1)
    assert ReferenceProvider(cache=root).get_reference_file(PARAMETERS, "bias") == str(path)
    assert not (root / "config" / "csst" / STAMPS_NAME).exists()
    flip_one_byte(path)
    with pytest.raises(ModifiedReferenceError, match=path.name):
        ReferenceProvider(cache=root).get_reference_file(PARAMETERS, "bias")


def test_certify_context_refuses(delivered: tuple[Path, Path],
                                 capsys: pytest.CaptureFixture[str]) -> None:
    root, path = delivered
    context = load_config(CacheLayout(root, "csst")).latest_context
    assert main(["certify", "--cache", str(root), "--context", str(context)]) == 0
    flip_one_byte(path)
    capsys.readouterr()
    assert main(["certify", "--cache", str(root), "--context", str(context)]) == 1
    out = capsys.readouterr()
    assert str(path) in out.out + out.err
    assert "--verify --repair" in out.out + out.err


def test_deliver_refuses_to_build_on_a_modified_reference(
        delivered: tuple[Path, Path], make_reference: Any,
        capsys: pytest.CaptureFixture[str]) -> None:
    root, path = delivered
    flip_one_byte(path)
    before = load_config(CacheLayout(root, "csst"))
    other = make_reference("bias_08.fits", "bias", "08")
    assert main(["deliver", "--cache", str(root), str(other)]) == 1
    err = capsys.readouterr().err
    assert str(path) in err
    assert "--verify --repair" in err
    assert load_config(CacheLayout(root, "csst")) == before
    assert sorted(p.name for p in (root / "references").rglob("*.fits")) == [path.name]
