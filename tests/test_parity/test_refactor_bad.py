"""``csst-crds refactor delete|set-header|del-header`` against CRDS's refactor; ``bad``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from csst_crds_plugin import ReferenceProvider
from csst_crds_plugin.cli.main import main
from csst_crds_plugin.errors import BadReferenceError
from csst_crds_plugin.rules import DictNode, SelectorNode, parse_mapping
from csst_crds_plugin.tools.certify.tree_checks import terminal_names

EXPOSURE = {"INSTRUME": "MSC", "DETECTOR": "06", "READMODE": "FAST", "DATE-OBS": "2027-01-02",
            "TIME-OBS": "10:00:00"}


def _plain(node: Any) -> Any:
    """Return a selector tree as plain data (offsets dropped), to compare two files' rules."""
    if isinstance(node, SelectorNode):
        return [node.name, [(k, _plain(v)) for k, v in node.entries]]
    if isinstance(node, DictNode):
        return [(k, _plain(v)) for k, v in node.entries]
    return node


def _rules(path: Path) -> tuple[dict[str, Any], Any]:
    ir = parse_mapping(path.read_text(encoding="utf-8"), str(path))
    header = {k: v for k, v in ir.header_dict().items()
              if k not in ("name", "derived_from", "sha1sum")}
    return header, _plain(ir.selector)


def _crds_refactor(tmp_path: Path, *words: str) -> None:
    pytest.importorskip("crds")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRDS_", "CSST_CRDS_"))}
    env.update(CRDS_PATH=str(tmp_path / "crds"), CRDS_MODE="local", CRDS_OBSERVATORY="jwst",
               CRDS_SERVER_URL="https://jwst-serverless-mode.invalid")
    done = subprocess.run([sys.executable, "-m", "crds.refactoring.refactor", *words],
                          capture_output=True, text=True, env=env, timeout=300, check=False,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def jwst_rmap(conformance_corpus: Path, tmp_path: Path) -> Path:
    """Return the jwst_0541 rmap that selects the most files, copied into a scratch folder."""
    folder = tmp_path / "rules"
    folder.mkdir()
    rmaps = sorted((conformance_corpus / "jwst-0541" / "cache" / "mappings" / "jwst")
                   .glob("*.rmap"))
    biggest = max(rmaps, key=lambda p: (len(terminal_names(parse_mapping(
        p.read_text(encoding="utf-8"), str(p)).selector)), p.name))
    return Path(shutil.copy(biggest, folder))


def test_delete_agrees_with_crds(jwst_rmap: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    ir = parse_mapping(jwst_rmap.read_text(encoding="utf-8"), str(jwst_rmap))
    doomed = sorted(terminal_names(ir.selector))[:3]
    out = tmp_path / "mine"
    out.mkdir()
    assert main(["refactor", "delete", "--rmap", str(jwst_rmap), "--references", *doomed,
                 "--output-dir", str(out), "--format", "json"]) == 0
    written = Path(json.loads(capsys.readouterr().out)["rmap"])
    theirs = tmp_path / "crds_delete.rmap"
    _crds_refactor(tmp_path, "delete", str(jwst_rmap), str(theirs), *doomed)
    assert _rules(written) == _rules(theirs)
    assert not set(doomed) & terminal_names(parse_mapping(written.read_text(), "x").selector)
    assert parse_mapping(written.read_text(), "x").header_dict()["derived_from"] == \
        jwst_rmap.name


@pytest.mark.parametrize("operation", ["set-header", "del-header"])
def test_header_edits_agree_with_crds(operation: str, jwst_rmap: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    words = ["description", "a", "new", "value"] if operation == "set-header" else ["classes"]
    assert main(["refactor", operation, "--rmap", str(jwst_rmap), *words,
                 "--output-dir", str(out), "--format", "json"]) == 0
    written = Path(json.loads(capsys.readouterr().out)["rmap"])
    theirs = tmp_path / "crds_header.rmap"
    _crds_refactor(tmp_path, operation.replace("-", "_"), str(jwst_rmap), str(theirs), *words)
    assert _rules(written) == _rules(theirs)
    header = _rules(written)[0]
    if operation == "set-header":
        assert header["description"] == "a new value"
    else:
        assert "classes" not in header


@pytest.mark.parametrize("key", ["selector", "drop"])
def test_set_header_takes_any_field_name(key: str, jwst_rmap: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    # field names once clashed with the writer's own arguments (a TypeError)
    assert main(["refactor", "set-header", "--rmap", str(jwst_rmap), key, "yes",
                 "--output-dir", str(tmp_path), "--format", "json"]) == 0
    written = Path(json.loads(capsys.readouterr().out)["rmap"])
    header, rules = _rules(written)
    assert header[key] == "yes"
    assert rules == _rules(jwst_rmap)[1]


def test_refactor_insert_is_the_insert_command(demo: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    cache = demo / "cache"
    new_bias = sorted((demo / "submissions" / "2027-01-03").glob("*bias*06*"))[0]
    rmap = cache / "mappings" / "csst" / "csst_msc_bias_0004.rmap"
    out_a, out_b = demo / "a", demo / "b"
    out_a.mkdir()
    out_b.mkdir()
    assert main(["refactor", "insert", "--rmap", str(rmap), "--references", str(new_bias),
                 "--output-dir", str(out_a)]) == 0
    assert main(["insert", "--rmap", str(rmap), "--references", str(new_bias),
                 "--output-dir", str(out_b)]) == 0
    [a], [b] = list(out_a.iterdir()), list(out_b.iterdir())
    assert a.read_text() == b.read_text()


def test_delete_of_a_name_no_rule_selects_writes_nothing(
        demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rmap = demo / "cache" / "mappings" / "csst" / "csst_msc_bias_0004.rmap"
    out = tmp_path / "out"
    out.mkdir()
    assert main(["refactor", "delete", "--rmap", str(rmap), "--references", "nosuch.fits",
                 "--output-dir", str(out)]) == 1
    assert "no rule selects nosuch.fits" in capsys.readouterr().err
    assert list(out.iterdir()) == []


def test_bad_add_remove_list(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = demo / "cache"
    chosen = ReferenceProvider(cache=cache).best_references(EXPOSURE, ["bias"])["bias"].value
    assert main(["bad", "add", chosen, "--cache", str(cache)]) == 0
    assert f"{chosen}: marked bad" in capsys.readouterr().out
    assert main(["bad", "list", "--cache", str(cache), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [chosen]
    config = json.loads((cache / "config" / "csst" / "contexts.json").read_text())
    assert config["bad_files"] == [chosen] and config["operational"]
    with pytest.raises(BadReferenceError):
        ReferenceProvider(cache=cache).best_references(EXPOSURE, ["bias"])
    assert main(["bad", "remove", chosen, "--cache", str(cache)]) == 0
    assert ReferenceProvider(cache=cache).best_references(EXPOSURE, ["bias"])["bias"].value \
        == chosen
    assert main(["bad", "add", "csst_msc_bias_9999.fits", "--cache", str(cache)]) == 1
    assert "not in the cache" in capsys.readouterr().err
