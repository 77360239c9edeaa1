"""The intent journal: a damaged or hostile journal stops writers with a clear message."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from csst_crds_plugin.errors import CacheError
from csst_crds_plugin.tools.delivery import deliver
from csst_crds_plugin.tools.delivery.journal import JOURNAL_NAME


def test_an_unreadable_journal_is_named(rules_cache: Path, make_reference: Any) -> None:
    journal = rules_cache / "config" / "csst" / JOURNAL_NAME
    journal.write_text('{"created": [{"path": 3}]', encoding="utf-8")
    with pytest.raises(CacheError, match=rf"{journal}: an unreadable journal of an interrupted "
                                         r"update .*remove it and run `csst-crds sync --verify`"):
        deliver(rules_cache, [make_reference("b.fits")])
    assert journal.exists()


def test_a_journal_naming_a_file_outside_the_cache_removes_nothing(
        rules_cache: Path, make_reference: Any, tmp_path: Path) -> None:
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me", encoding="utf-8")
    journal = rules_cache / "config" / "csst" / JOURNAL_NAME
    journal.write_text(json.dumps({"created": [{
        "path": "../precious.txt", "sha256": hashlib.sha256(b"keep me").hexdigest(),
        "size": 7}], "manifest": {},
        "publish": None}), encoding="utf-8")
    with pytest.raises(CacheError, match="outside the cache root"):
        deliver(rules_cache, [make_reference("b.fits")])
    assert outside.read_text(encoding="utf-8") == "keep me"
