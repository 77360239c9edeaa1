"""csst-crds site: a static copy whose every link resolves to a written page."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from csst_crds_plugin.cli.main import main


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        for name, value in attrs:
            if name in ("href", "src", "action") and value is not None:
                self.links.append(value)


def _walk(out: Path) -> tuple[set[Path], list[str]]:
    """Follow every link from index.html; return the pages reached and the broken links."""
    seen: set[Path] = set()
    broken = []
    todo = [out / "index.html"]
    while todo:
        page = todo.pop()
        if page in seen:
            continue
        seen.add(page)
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        assert parser.scripts == 0, page
        for link in parser.links:
            parts = urlsplit(link)
            assert not parts.scheme and not parts.netloc and not link.startswith("/"), link
            target = (page.parent / unquote(parts.path)).resolve()
            if not target.is_file() or out.resolve() not in target.parents:
                broken.append(f"{page.relative_to(out)}: {link}")
            elif target.suffix == ".html":
                todo.append(target)
    return seen, broken


def test_every_link_resolves_to_a_written_page(demo_copy: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "site"
    assert main(["site", "--cache", str(demo_copy), "--out", str(out), "--date",
                 "2027-01-05"]) == 0
    written = {p.resolve() for p in out.rglob("*.html")}
    assert f"{len(written)} pages written" in capsys.readouterr().out
    seen, broken = _walk(out)
    assert not broken, broken[:10]
    assert seen == written  # nothing unreachable
    references = {p.name for p in (demo_copy / "references").rglob("*") if p.is_file()}
    assert {p.name.removesuffix(".html") for p in (out / "reference").iterdir()} == references
    contexts = {p.name for p in (demo_copy / "mappings" / "csst").glob("*.pmap")}
    assert {p.name.removesuffix(".html") for p in (out / "context").iterdir()} == contexts
    assert len(list((out / "diff").iterdir())) == len(contexts) - 1
    home = (out / "index.html").read_text()
    assert re.search(r'Operational context:\s*<a href="context/csst_0011.pmap.html">', home)


def test_regenerating_replaces_and_prunes(demo_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert main(["site", "--cache", str(demo_copy), "--out", str(out), "--no-certify"]) == 0
    last = sorted((demo_copy / "mappings" / "csst").glob("*.pmap"))[-1]
    last.unlink()
    (demo_copy / "config" / "csst" / "contexts.json").write_text(
        '{"observatory": "csst", "operational": "csst_0010.pmap", "history": []}')
    assert main(["site", "--cache", str(demo_copy), "--out", str(out), "--no-certify"]) == 0
    assert not (out / "context" / f"{last.name}.html").exists()
    _, broken = _walk(out)
    assert not broken, broken[:10]
    assert not list(out.rglob(".tmp-*"))


def test_a_foreign_folder_is_refused(demo_cache: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert main(["site", "--cache", str(demo_cache), "--out", str(out)]) == 1
    assert "was not written by `csst-crds site`" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
