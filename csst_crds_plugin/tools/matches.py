"""``csst-crds matches``: the rule tuples of a context that select a reference file.

Each match is the full parameter path: the parkey names with the rule's values at every level,
the UseAfter date split into ``DATE-OBS`` and ``TIME-OBS`` when the rmap has both, as CRDS
``matches`` prints it. The context's mappings are loaded (checksums verified) through the
provider; only rmaps whose text names the file are walked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csst_crds_plugin.cache import check_name
from csst_crds_plugin.errors import CsstCrdsError
from csst_crds_plugin.provider import ReferenceProvider
from csst_crds_plugin.rules.ir import MAPPING_EXTENSIONS, Key
from csst_crds_plugin.selectors.values import is_na_value, is_omit_value
from csst_crds_plugin.tools.diffing.report import observatory_for
from csst_crds_plugin.tools.diffing.rules import jsonable, terminal_names, walk_terminals

__all__ = ["MatchesReport", "NotAReferenceError", "RuleMatch", "matches"]


class NotAReferenceError(CsstCrdsError, ValueError):
    """``matches`` was given a mapping instead of a reference file."""


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """One rule path that selects the file."""

    file: str
    instrument: str
    reftype: str
    rmap: str
    path: tuple[Key, ...]
    parameters: tuple[tuple[str, ...], ...]
    classes: tuple[str, ...]
    terminal: Any

    def assignments(self) -> list[tuple[str, Any]]:
        """(parameter, value) pairs from the top level down."""
        pairs: list[tuple[str, Any]] = []
        for names, key in zip(self.parameters, self.path, strict=False):
            if isinstance(key, tuple) and len(key) == len(names):
                pairs.extend(zip(names, key, strict=True))
            elif len(names) == 1:
                pairs.append((names[0], key[0] if isinstance(key, tuple) and len(key) == 1
                              else key))
            elif isinstance(key, str) and len(key.split()) == len(names):
                pairs.extend(zip(names, key.split(), strict=True))   # 'date time'
            else:
                pairs.append((",".join(names) or "?", key))
        return pairs

    def __str__(self) -> str:
        """Render the match in one line: file, instrument, type, parameter values, rmap."""
        values = " ".join(f"{name}={value!r}" for name, value in self.assignments())
        return (f"{self.file} : {self.instrument.upper()} {self.reftype.upper()} {values} "
                f"({self.rmap})")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return {"instrument": self.instrument, "reftype": self.reftype, "rmap": self.rmap,
                "parameters": {name: jsonable(value) for name, value in self.assignments()},
                "path": [jsonable(k) for k in self.path], "classes": list(self.classes),
                "selects": jsonable(self.terminal), "text": str(self)}


@dataclass
class MatchesReport:
    """Every rule of `context` whose choice includes `file`."""

    file: str
    context: str
    matches: list[RuleMatch] = field(default_factory=list)

    @property
    def found(self) -> bool:
        """True when at least one rule selects the file."""
        return bool(self.matches)

    def lines(self) -> list[str]:
        """One line per rule path."""
        return [str(match) for match in self.matches]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return {"file": self.file, "context": self.context, "found": self.found,
                "matches": [m.to_dict() for m in self.matches]}


def _real(name: str) -> bool:
    return not is_na_value(name) and not is_omit_value(name)


def matches(file: str | Path, *, cache: str | Path | None = None, context: str | None = None,
            observatory: str | None = None) -> MatchesReport:
    """Return the rule paths of `context` (default: the pinned or operational) selecting `file`."""
    name = check_name(Path(file).name, "reference")
    if name.endswith(MAPPING_EXTENSIONS):
        raise NotAReferenceError(f"{name} is a mapping; `csst-crds matches` takes reference "
                                 "files (use `csst-crds uses` for mappings)")
    if observatory is None and context is None:
        observatory = observatory_for(name, cache)
    provider = ReferenceProvider(cache=cache, context=context, observatory=observatory)
    pmap = provider.pmap
    report = MatchesReport(name, provider.context)
    for instrument, imap_name in sorted(pmap.entries.items()):
        if not _real(imap_name):
            continue
        imap = pmap.imap(instrument)
        for reftype, rmap_name in sorted(imap.entries.items()):
            if not _real(rmap_name) or name not in provider.layout.read_mapping(rmap_name)[1]:
                continue
            rmap = imap.rmap(reftype)
            levels = tuple(tuple(str(p).upper() for p in level) for level in rmap.parkey)
            for path, classes, terminal in walk_terminals(rmap.ir.selector):
                if name in terminal_names(terminal):
                    report.matches.append(RuleMatch(
                        name, imap.instrument, reftype, rmap.name, path,
                        tuple(levels[i] if i < len(levels) else () for i in range(len(path))),
                        classes, terminal))
    return report
