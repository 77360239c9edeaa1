"""Parser speed on hostile and on large rule text, beside Python's own parser.

Run ``python benchmarks/bench_parser.py`` (about 30 s). CRDS reads rule files with Python's
parser (``ast.parse``/``compile``); this engine reads them with its own parser, which must stay
linear in the size of any input. For each input the table gives the time this engine takes
to parse it (or to refuse it, with the error class) and the time ``ast.parse`` takes on the
same text. Inputs that scale are measured at two sizes: a linear parser takes about 4x the
time for 4x the text. Speed is only reported here: no test asserts timings.
"""

from __future__ import annotations

import ast
import gc
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import rulegen

from csst_crds_plugin.errors import CsstCrdsError
from csst_crds_plugin.rules import Expression, parse_mapping

PMAP = ("header = {\n    'mapping' : 'PIPELINE',\n    'name' : 'csst_0001.pmap',\n"
        "    'parkey' : ('INSTRUME',),\n}\n\nselector = {\n    'MSC' : 'csst_msc_0001.imap',"
        "%s}\n")


def _best(function: Callable[[], object], rounds: int = 3) -> tuple[float, str]:
    """Best CPU time of `function` (seconds) and its outcome ('ok' or the error class)."""
    best, outcome = float("inf"), "ok"
    for _ in range(rounds):
        gc.collect()
        start = time.process_time()
        try:
            function()
        except (CsstCrdsError, SyntaxError, RecursionError, MemoryError, ValueError) as exc:
            outcome = type(exc).__name__
        best = min(best, time.process_time() - start)
    return best, outcome


def _row(label: str, text: str, parse: Callable[[str], object] | None = None) -> None:
    mine, outcome = _best(lambda: (parse or parse_mapping)(text))
    theirs, their_outcome = _best(lambda: ast.parse(text))
    print(f"| {label} | {len(text):,} | {mine * 1000:.2f} ms ({outcome}) | "
          f"{theirs * 1000:.2f} ms ({their_outcome}) |", flush=True)


def main() -> int:
    """Print the table of parse times; return the exit status."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    print("| input | characters | this parser | ast.parse |\n|---|---|---|---|")
    for blanks in (26, 30, 1_000, 1_000_000, 4_000_000):
        _row(f"pmap, {blanks:,} blanks before its closing brace", PMAP % (" " * blanks))
    for lines in (100_000, 400_000):
        _row(f"pmap, {lines:,} comment lines before its closing brace",
             PMAP % ("\n    # a comment" * lines + "\n"))
    for depth in (1_000, 100_000):
        _row(f"{depth:,} nested parentheses in the header",
             PMAP.replace("'mapping'", "'deep' : " + "(" * depth + "1" + ")" * depth +
                          ",\n    'mapping'") % "")
    for count in (3_000, 100_000):
        _row(f"'not ' x{count:,} (a header expression)", "not " * count + "A",
             parse=Expression)
    for pairs in (100_000, 400_000):
        body = "".join(f"\n    'K{i}' : {i}," for i in range(pairs))  # no simple-block path
        _row(f"dict of {pairs:,} number values", "selector = {" + body + "\n}\n",
             parse=lambda text: parse_mapping("header = {}\n" + text))
    with tempfile.TemporaryDirectory() as folder:
        scenario = rulegen.SCENARIOS["m200x25"]
        rulegen.write_scenario(Path(folder), scenario)
        for path in sorted((Path(folder) / "mappings" / "tobs").glob("*.rmap"))[:1]:
            _row(f"synthetic rmap {path.name}", path.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
