"""``csst-crds insert``: a new rmap version with references inserted (no cache changes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from csst_crds_plugin.tools.delivery.insert import Insertion, RmapInserter
from csst_crds_plugin.tools.delivery.mappings import parse_verified, series_of
from csst_crds_plugin.tools.delivery.submission import read_header
from csst_crds_plugin.tools.delivery.uniqname import existing_names, next_serial, write_new_file

__all__ = ["InsertResult", "insert_references"]


@dataclass(frozen=True, slots=True)
class InsertResult:
    """The new rmap and one record per inserted reference."""

    rmap: Path
    derived_from: str
    insertions: tuple[Insertion, ...]


def insert_references(rmap: str | Path, references: Sequence[str | Path], *,
                      output_dir: str | Path | None = None) -> InsertResult:
    """Insert `references` (by their file names) into `rmap`; write the next version of it.

    The new file goes to `output_dir` (default: beside `rmap`) under the next free serial of the
    rmap's series, never over an existing file. The old rmap's checksum must be valid.
    """
    rmap = Path(rmap)
    ir = parse_verified(rmap.read_text(encoding="utf-8"), str(rmap))
    inserter = RmapInserter(ir)
    for reference in references:
        path = Path(reference)
        inserter.insert(read_header(path), path.name, str(path))
    folder = Path(output_dir) if output_dir is not None else rmap.parent
    stem, serial, ext = series_of(rmap.name)
    start = max(serial + 1, next_serial(existing_names(folder), stem, ext))
    name = write_new_file(folder, stem, ext, start,
                          lambda new: inserter.render(new).encode("utf-8"))
    return InsertResult(folder / name, rmap.name, tuple(inserter.insertions))
