"""Provenance: which references and rules a product used, and which steps ran.

``meta.ref_file.crds.context_used`` / ``.sw_version`` are written as ``CRDS_CTX`` /
``CRDS_VER``.  ``meta.ref_file.<reftype>`` (name, source, checksum) is written as three
keywords built from an abbreviation of at most 6 characters (`reftype_abbreviation`):

* ``R_<ABBR>``: the file name (``'N/A'`` when the reference does not apply), with the comment
  ``"<reftype> reference"`` (the full reftype name, read back from it);
* ``S_<ABBR>``: the source: ``rule``, ``override`` or ``not_applicable``;
* ``H_<ABBR>``: the checksum (e.g. ``sha256:…``), when known.

``meta.cal_step.<step>`` is ``COMPLETE`` or ``SKIPPED`` and is written as ``STA_<ABBR>``
(CSST.md §2.2) with the integer **0 = COMPLETE, 1 = SKIPPED** (CSST's "0 = done"); the card
comment starts with the step key (e.g. ``csst_dark``) so any step name reads back exactly.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from csst_crds_plugin.results import RefSource
from datamodels._fields import FitsKeyword, MetaBase
from datamodels.errors import MetadataError

__all__ = [
    "CalStep",
    "CrdsInfo",
    "RefFile",
    "RefFileEntry",
    "RunInfo",
    "StepStatus",
    "iter_dotted",
    "provenance_cards",
    "provenance_from_cards",
    "reftype_abbreviation",
    "step_abbreviation",
]

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
#: Reference types whose CSST keyword is not simply the first 6 letters (CSST.md §2.2).
_REFTYPE_ABBR: dict[str, str] = {"readnoise": "READN", "saturation": "SATURA"}
#: Step keys (stpipe aliases, ``csst_`` stripped) with a CSST status keyword (CSST.md §2.2).
_STEP_ABBR: dict[str, str] = {
    "dq_init": "DQI",
    "saturation": "SATC",
    "bias": "BIAS",
    "dark": "DARK",
    "flat": "FLAT",
    "flat_field": "FLAT",
    "cr_reject": "CR",
    "cr": "CR",
    "gain": "GAIN",
}
_STATUS_CODES = {"COMPLETE": 0, "SKIPPED": 1}


def _names(data: Any, *reserved: str) -> Any:
    """Refuse keys that are not lower-case identifiers (they become FITS keyword comments)."""
    if isinstance(data, Mapping):
        for name in data:
            if str(name).startswith("__") or name in reserved:
                continue
            if not _NAME_RE.match(str(name)):
                raise MetadataError(
                    f"meta key {name!r} is not a lower-case identifier; allowed: [a-z][a-z0-9_]*",
                    keyword=str(name),
                    value=name,
                    allowed="[a-z][a-z0-9_]*",
                )
    return data


class StepStatus(enum.StrEnum):
    """What a calibration step did."""

    COMPLETE = "COMPLETE"
    SKIPPED = "SKIPPED"


class RefFileEntry(MetaBase):
    """One reference used: its file name, where the choice came from and its checksum."""

    name: str = Field(min_length=1)
    source: RefSource | None = None
    checksum: str | None = None


class CrdsInfo(MetaBase):
    """The rules (context) and software version that chose the references."""

    context_used: Annotated[str | None, FitsKeyword("CRDS_CTX", comment="CRDS context used")] = None
    sw_version: Annotated[
        str | None, FitsKeyword("CRDS_VER", comment="reference selection software version")
    ] = None


class RunInfo(MetaBase):
    """``meta.run``: how the product was made, so that ``csst-crds reproduce --rerun`` can redo it.

    The stpipe step or pipeline (its class alias), the input file (absolute path) and its
    sha256, and the step's parameters as JSON (``Step.get_pars()``, overrides included).
    """

    step: Annotated[str | None, FitsKeyword("RUN_STEP", comment="stpipe step or pipeline")] = None
    input: Annotated[str | None, FitsKeyword("RUN_IN", comment="input file")] = None
    input_checksum: Annotated[
        str | None, FitsKeyword("RUN_HASH", comment="checksum of the input file")
    ] = None
    parameters: Annotated[
        str | None, FitsKeyword("RUN_PARS", comment="step parameters (JSON)")
    ] = None


class RefFile(MetaBase):
    """``meta.ref_file``: ``crds`` plus one `RefFileEntry` per reference type (any name)."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, RefFileEntry]

    crds: CrdsInfo = Field(default_factory=CrdsInfo)

    def model_post_init(self, context: Any, /) -> None:
        """Refuse reference types that are not lower-case identifiers."""
        _names(self.__pydantic_extra__ or {})

    def __setattr__(self, name: str, value: Any) -> None:
        """Refuse a reference type that is not a lower-case identifier, then set it."""
        _names({name: value}, "crds")
        super().__setattr__(name, value)

    def entries(self) -> dict[str, RefFileEntry]:
        """Return ``{reftype: entry}`` for every reference recorded."""
        return dict(self.__pydantic_extra__ or {})

    def set(
        self,
        reftype: str,
        name: str,
        source: RefSource | str | None = None,
        checksum: str | None = None,
    ) -> RefFileEntry:
        """Record the reference ``name`` used for ``reftype`` and return its entry."""
        setattr(self, reftype.lower(), {"name": name, "source": source, "checksum": checksum})
        return self.__pydantic_extra__[reftype.lower()]  # the entry validated just now


class CalStep(MetaBase):
    """``meta.cal_step``: step key (stpipe alias, e.g. ``csst_dark``) → `StepStatus`."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, StepStatus]

    def model_post_init(self, context: Any, /) -> None:
        """Refuse step keys that are not lower-case identifiers."""
        _names(self.__pydantic_extra__ or {})

    def __setattr__(self, name: str, value: Any) -> None:
        """Refuse a step key that is not a lower-case identifier, then set it."""
        _names({name: value})
        super().__setattr__(name, value)

    def statuses(self) -> dict[str, StepStatus]:
        """Return ``{step: status}`` for every step recorded."""
        return dict(self.__pydantic_extra__ or {})


def reftype_abbreviation(reftype: str) -> str:
    """Return the ≤ 6-character abbreviation of a reftype: ``readnoise`` → ``READN``."""
    name = reftype.lower()
    return _REFTYPE_ABBR.get(name) or re.sub(r"[^A-Z0-9]", "", name.upper())[:6]


def step_abbreviation(step: str) -> str:
    """Return the ≤ 4-character abbreviation of a step key: ``csst_dq_init`` → ``DQI``."""
    name = step.lower().removeprefix("csst_")
    return _STEP_ABBR.get(name) or re.sub(r"[^A-Z0-9]", "", name.upper())[:4]


Card = tuple[str, Any, str]


def _unique(cards: list[Card], owners: dict[str, str], owner: str, card: Card) -> None:
    if card[0] in owners:
        raise MetadataError(
            f"{owners[card[0]]} and {owner} would both be written as {card[0]}; rename one of them",
            keyword=card[0],
            value=owner,
            allowed="names with different abbreviations",
        )
    owners[card[0]] = owner
    cards.append(card)


def provenance_cards(ref_file: RefFile, cal_step: CalStep) -> list[Card]:
    """Render the dynamic provenance of ``meta`` as primary-header cards."""
    cards: list[Card] = []
    owners: dict[str, str] = {}
    for reftype, entry in ref_file.entries().items():
        abbr = reftype_abbreviation(reftype)
        owner = f"meta.ref_file.{reftype}"
        _unique(cards, owners, owner, (f"R_{abbr}", entry.name, f"{reftype} reference"))
        if entry.source is not None:
            cards.append((f"S_{abbr}", entry.source.value, f"source of R_{abbr}"))
        if entry.checksum is not None:
            cards.append((f"H_{abbr}", entry.checksum, f"checksum of R_{abbr}"))
    for step, status in cal_step.statuses().items():
        card = (
            f"STA_{step_abbreviation(step)}",
            _STATUS_CODES[status],
            f"{step}: 0=COMPLETE 1=SKIPPED",
        )
        _unique(cards, owners, f"meta.cal_step.{step}", card)
    return cards


def _reftype_from(abbr: str, comment: str) -> str:
    words = comment.split()
    if len(words) == 2 and words[1] == "reference" and reftype_abbreviation(words[0]) == abbr:  # noqa: PLR2004
        return words[0]
    inverse = {v: k for k, v in _REFTYPE_ABBR.items()}
    return inverse.get(abbr, abbr.lower())


def _step_from(abbr: str, comment: str) -> str:
    word = comment.split(":", 1)[0].strip() if ":" in comment else ""
    if _NAME_RE.match(word) and step_abbreviation(word) == abbr:
        return word
    inverse: dict[str, str] = {}
    for name, known in _STEP_ABBR.items():  # the first name of an abbreviation is canonical
        inverse.setdefault(known, name)
    return "csst_" + inverse.get(abbr, abbr.lower())


def provenance_from_cards(
    cards: Mapping[str, tuple[Any, str]], where: str
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Read ``R_*``/``S_*``/``H_*`` and ``STA_*`` cards back into ``ref_file`` and ``cal_step``.

    Returns
    -------
    ref_file, cal_step : dict
        ``{reftype: {"name", "source", "checksum"}}`` and ``{step: "COMPLETE" | "SKIPPED"}``.
    """
    ref_file: dict[str, dict[str, Any]] = {}
    cal_step: dict[str, str] = {}
    codes = {code: status for status, code in _STATUS_CODES.items()}
    for keyword, (value, comment) in cards.items():
        if re.fullmatch(r"R_[A-Z0-9]{1,6}", keyword):
            abbr = keyword[2:]
            ref_file[_reftype_from(abbr, comment)] = {
                "name": value,
                "source": cards.get(f"S_{abbr}", (None, ""))[0],
                "checksum": cards.get(f"H_{abbr}", (None, ""))[0],
            }
        elif re.fullmatch(r"STA_[A-Z0-9]{1,4}", keyword):
            if isinstance(value, bool) or value not in codes:
                raise MetadataError(
                    f"{keyword}={value!r} ({where}) is not a step status; "
                    "allowed: 0 (COMPLETE), 1 (SKIPPED)",
                    keyword=keyword,
                    value=value,
                    allowed="0 (COMPLETE), 1 (SKIPPED)",
                )
            cal_step[_step_from(keyword[4:], comment)] = codes[value]
    return ref_file, cal_step


def iter_dotted(prefix: str, value: Any) -> Iterator[tuple[str, Any]]:
    """Flatten nested dicts to ``(UPPER.DOTTED.KEY, scalar)`` pairs, skipping ``None``."""
    if isinstance(value, Mapping):
        for key, sub in value.items():
            yield from iter_dotted(f"{prefix}.{str(key).upper()}", sub)
    elif value is not None and isinstance(value, str | int | float | bool):
        yield prefix, value
