"""Tables for the terminal (rich) and plain aligned text when the output is not a terminal."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TextIO

__all__ = ["print_table"]


def print_table(head: Sequence[str], rows: Iterable[Sequence[str]], stream: TextIO) -> None:
    """Print `rows` under `head`: rich's box drawing on a terminal, else aligned columns."""
    rows = [list(map(str, row)) for row in rows]
    if getattr(stream, "isatty", lambda: False)():
        from rich.console import Console
        from rich.table import Table

        table = Table(*head)
        for row in rows:
            table.add_row(*row)
        Console(file=stream).print(table)
        return
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(head)]
    for row in [list(head), *rows]:
        stream.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
                     .rstrip() + "\n")
