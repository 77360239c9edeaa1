"""Contexts: pmap → imap → rmap objects built from parsed rules, loaded lazily, kept per process.

The lookup path follows CRDS's getreferences path (RULES.md §3.1): parameters are conditioned,
reduced to the instrument's required keys (a missing key becomes ``UNDEFINED``), the instrument
picks an imap, and each requested type is looked up in its rmap (§3.2).
"""

from __future__ import annotations

import logging
import operator
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from csst_crds_plugin.errors import (
    CsstCrdsWarning,
    FileNotCachedError,
    MissingInstrumentError,
    NoMatchError,
    ReferenceLookupError,
    RuleValidationError,
    UnknownInstrumentError,
    UnknownReftypeError,
)
from csst_crds_plugin.observatories import get_observatory
from csst_crds_plugin.results import (
    NOT_APPLICABLE,
    OMITTED,
    UNDEFINED,
    MapResult,
    NotApplicable,
    Omitted,
    Terminal,
    terminal_files,
)
from csst_crds_plugin.rule_mapping import LoaderLike, RuleMapping, tupled
from csst_crds_plugin.rules import (
    DictNode,
    Expression,
    ExpressionError,
    ExpressionSyntaxError,
    MappingIR,
    PairColumns,
    SelectorNode,
)
from csst_crds_plugin.selectors import (
    MatchSelector,
    Selector,
    SelectorOptions,
    UseAfterSelector,
    selector_class,
)
from csst_crds_plugin.selectors.base import DEFAULT_SUBSTITUTIONS
from csst_crds_plugin.selectors.values import (
    NA_VALUES,
    OMIT_VALUES,
    KeyPlan,
    condition_mapping,
    is_na_value,
    is_omit_value,
)

__all__ = [
    "InstrumentMapping",
    "PipelineMapping",
    "ReferenceMapping",
    "condition_parameters",
]

log = logging.getLogger(__name__)

INSTRUMENT_KEYS: Final = (
    "INSTRUME", "META.INSTRUMENT.NAME", "META_INSTRUMENT_NAME", "INSTRUMENT",
    "ROMAN.META.INSTRUMENT.NAME", "META.INSTRUMENT.TYPE", "META_INSTRUMENT_TYPE",
)
_PLAN_LIMIT: Final = 1024  # distinct parameter key sets remembered per context

class ReferenceMapping(RuleMapping):
    """An rmap: header facts plus a selector tree."""

    kind = "REFERENCE"

    def __init__(self, ir: MappingIR, loader: LoaderLike) -> None:
        super().__init__(ir, loader)
        header = self.header
        self.instrument = str(header["instrument"]).lower()
        self.filekind = str(header["filekind"]).lower()
        self.parkey = tuple(tupled(level) for level in tupled(header["parkey"]))
        switch = str(header.get("reffile_switch", "none")).upper()
        self.reffile_switch = None if switch == "NONE" else switch
        self.reffile_required = str(header.get("reffile_required", "none")).upper()
        extra = tuple(str(k).upper() for k in tupled(header.get("extra_keys", ())))
        keys: list[str] = [str(k) for level in self.parkey for k in level]
        if self.reffile_switch:
            keys.append(self.reffile_switch)
        keys.extend(extra)
        keys.extend(get_observatory(self.observatory).extra_keys)
        self.required_keys = tuple(dict.fromkeys(keys))
        self.comment_parkeys = tuple(
            str(k).upper() for k in tupled(header.get("comment_parkeys", ()))
        )
        if "hooks" in header:
            warnings.warn(f"{self.path}: the 'hooks' header (HST plug-ins) is not supported "
                          "and is ignored", CsstCrdsWarning, stacklevel=2)
        self.relevance = self._expression("rmap_relevance")
        self.omit = self._expression("rmap_omit")
        self.parkey_relevance: dict[str, Expression] = {}
        for key, text in ir.dict_field(self.raw_header, "parkey_relevance",
                                       "{'PARKEY': '(expression)', ...}"):
            self.parkey_relevance[str(key).upper()] = self._compile(str(text), "parkey_relevance")
        for key in self.comment_parkeys:
            self.parkey_relevance.setdefault(key, Expression("keep_comments"))
        merge = self.raw_header.get("merge_overlaps")
        substitutions: dict[str, Any] = {k: dict(v) for k, v in DEFAULT_SUBSTITUTIONS.items()}
        shape = "{'PARKEY': {'VALUE': 'REPLACEMENT', ...}, ...}"
        for key, table in ir.dict_field(self.raw_header, "substitutions", shape):
            if not isinstance(table, dict):
                raise ir.field_error("substitutions", f"the entry for {key!r} must be a dict, "
                                     f"not {type(table).__name__}: {shape}")
            substitutions.setdefault(str(key), {}).update(table)
        self.options = SelectorOptions(
            rmap=self.name,
            merge_overlaps=True if merge is None else str(merge).upper() in ("TRUE", "1"),
            substitutions=substitutions,
        )
        self.selector = self._build(ir.selector, list(self.parkey))
        self.plain = (
            self.omit is None and self.relevance is None and not self.parkey_relevance
            and isinstance(self.selector, Selector)
        )
        """True when lookup is just the selector (no expressions): the fast path."""
        self._direct: dict[tuple[str, ...], UseAfterSelector | None] | None = (
            {} if self.plain and type(self.selector) is MatchSelector else None
        )

    # -- construction --------------------------------------------------------------------------
    def _expression(self, field: str) -> Expression | None:
        raw = self.raw_header.get(field)
        if raw is None:
            return None
        text = str(raw).strip()
        if text.lower() in ("always", "true"):
            return Expression("True")
        # Departure D3: the original text is evaluated, even when not parenthesised.
        return self._compile(text, field)

    def _compile(self, text: str, field: str) -> Expression:
        for key in self.required_keys:
            if "." in key:
                text = text.replace(key, key.replace(".", "_"))
        try:
            return Expression(text)
        except ExpressionSyntaxError as exc:
            raise self.ir.field_error(field, str(exc)) from exc

    def _build(self, node: Any, levels: list[tuple[Any, ...]]) -> Selector | Any:
        if isinstance(node, SelectorNode):
            if not levels:
                raise RuleValidationError(
                    f"{self.path}: {node.name} is nested deeper than parkey has levels "
                    f"({self.parkey!r})"
                )
            cls = selector_class(node.name)
            parameters = tuple(str(p).upper() for p in levels[0])
            entries = node.entries
            values = entries.column_values if isinstance(entries, PairColumns) else \
                map(operator.itemgetter(1), entries)
            # the choices: all terminals (str) as they are, else each one built
            built: Sequence[tuple[Any, Any]] = entries
            if set(map(type, values)) - {str}:
                built = [(key, self._build(value, levels[1:])) for key, value in entries]
            try:
                return cls.build(parameters, built, self.options)
            except RuleValidationError as exc:
                line, column, source = self.ir.source.locate(node.offset)
                raise RuleValidationError(f"{self.path}:{line}:{column}: {exc}") from exc
        if isinstance(node, DictNode):
            files = {str(k): v for k, v in node.as_dict().items()}
            return MapResult(files)  # type: ignore[arg-type]  # values: file names (RULES.md §3.2)
        if isinstance(node, tuple):
            return tuple(self._build(item, levels) for item in node)
        return node

    # -- lookup --------------------------------------------------------------------------------
    def namespace(self, header: Mapping[str, str]) -> dict[str, object]:
        """Return the expression namespace: the header plus ``_`` copies of dotted keys."""
        space: dict[str, object] = dict(header)
        for key, value in header.items():
            if "." in key:
                space[key.replace(".", "_")] = value
        return space

    def _direct_choice(self, header: Mapping[str, str]) -> str | None:
        """Match → UseAfter → file without the general machinery, memoised per match key.

        None whenever the shortcut does not plainly apply; the general path then decides.
        """
        selector, direct = self.selector, self._direct
        if direct is None or type(selector) is not MatchSelector:
            return None
        try:
            values = tuple([header[name] for name in selector.parameters])
        except KeyError:
            return None
        try:
            target = direct[values]
        except KeyError:
            if len(direct) >= _PLAN_LIMIT:
                direct.clear()
            target = direct[values] = selector.direct_target(values)
        return None if target is None else target.choose_file(header)

    def lookup(self, header: Mapping[str, str]) -> Terminal | Omitted:
        """Select for a conditioned, minimised header: a terminal, NOT_APPLICABLE or OMITTED."""
        if self.plain:
            if self._direct is not None:
                direct_choice = self._direct_choice(header)
                if direct_choice is not None:
                    if direct_choice in NA_VALUES:
                        return NOT_APPLICABLE
                    return OMITTED if direct_choice in OMIT_VALUES else direct_choice
            try:
                choice = self.selector.choose(header)
            except ReferenceLookupError as exc:
                if self.reffile_required not in ("YES", "NONE"):
                    return NOT_APPLICABLE
                raise _in_context(exc, self, header) from exc
            if type(choice) is str:
                if choice in NA_VALUES:
                    return NOT_APPLICABLE
                if choice in OMIT_VALUES:
                    return OMITTED
            return choice  # type: ignore[return-value]  # choose() recurses to a terminal
        early, header, _ = self.relevant(header)
        if early is not None:
            return early
        try:
            choice = self.selector.choose(header) if isinstance(self.selector, Selector) \
                else self.selector
        except ReferenceLookupError as exc:
            if self.reffile_required not in ("YES", "NONE"):
                return NOT_APPLICABLE
            raise _in_context(exc, self, header) from exc
        if is_na_value(choice):
            return NOT_APPLICABLE
        if is_omit_value(choice):
            return OMITTED
        return choice  # type: ignore[return-value]  # choose() recurses to a terminal

    def relevant(self, header: Mapping[str, str]
                 ) -> tuple[NotApplicable | Omitted | None, Mapping[str, str], tuple[str, ...]]:
        """Apply the header expressions: ``(early result, header for the selector, keys N/A)``.

        ``rmap_omit`` true gives OMITTED, ``rmap_relevance`` false NOT_APPLICABLE; irrelevant
        ``parkey_relevance`` keys become ``N/A``. `lookup` and `explain` both use this.
        """
        if self.omit is None and self.relevance is None and not self.parkey_relevance:
            return None, header, ()
        space = self.namespace(header)
        space.setdefault("keep_comments", False)
        if self.omit is not None:
            try:
                if self.omit.evaluate(space):
                    return OMITTED, header, ()
            except ExpressionError as exc:
                log.warning("%s: rmap_omit %r failed to evaluate (%s); not omitting",
                            self.name, self.omit.text, exc)
        if self.relevance is not None:
            try:
                if not self.relevance.evaluate(space):
                    return NOT_APPLICABLE, header, ()
            except ExpressionError as exc:
                log.warning("%s: rmap_relevance %r failed to evaluate (%s); treating as relevant",
                            self.name, self.relevance.text, exc)
        if not self.parkey_relevance:
            return None, header, ()
        changed = dict(header)
        irrelevant = []
        for key, expression in self.parkey_relevance.items():
            try:
                relevant = expression.evaluate(space)
            except ExpressionError as exc:
                raise ReferenceLookupError(
                    f"{self.name}: parkey_relevance for {key!r} ({expression.text!r}) failed "
                    f"to evaluate: {exc}"
                ) from exc
            if not relevant:
                changed[key] = "N/A"
                irrelevant.append(key)
        return None, changed, tuple(irrelevant)

    def reference_names(self) -> list[str]:
        """Every file name this rmap can select."""
        names: set[str] = set()
        if isinstance(self.selector, Selector):
            for _path, terminal in self.selector.walk():
                names.update(terminal_files(terminal))
        return sorted(n for n in names if not is_na_value(n) and not is_omit_value(n))


def _in_context(exc: ReferenceLookupError, rmap: ReferenceMapping,
                header: Mapping[str, str]) -> ReferenceLookupError:
    params = ", ".join(f"{k}={header.get(k, UNDEFINED)!r}" for k in rmap.required_keys)
    text = f"{rmap.name} ({rmap.filekind}): {exc} [parameters: {params}]"
    selector = rmap.selector
    if isinstance(exc, NoMatchError) and isinstance(selector, MatchSelector):
        # the top-level Match rules failing the fewest parameters, with those they fail
        nearest = selector.describe_nearest(
            [header.get(name, UNDEFINED) for name in selector.parameters])
        if nearest:
            text += f"; nearest rules: {nearest}"
    new = type(exc)(text)
    new.crds_message = str(exc)
    return new


class InstrumentMapping(RuleMapping):
    """An imap: reference type → rmap name, N/A or OMIT."""

    kind = "INSTRUMENT"

    def __init__(self, ir: MappingIR, loader: LoaderLike) -> None:
        super().__init__(ir, loader)
        self.instrument = str(self.header["instrument"]).lower()
        self.entries: dict[str, str] = {str(k).lower(): str(v) for k, v in self._entries()}
        self._rmaps: dict[str, ReferenceMapping] = {}
        self._required: tuple[str, ...] | None = None

    def rmap_names(self) -> list[str]:
        """Return the rmap names this imap refers to."""
        return [v for v in self.entries.values() if not is_na_value(v) and not is_omit_value(v)]

    def rmap(self, reftype: str) -> ReferenceMapping:
        """Return the rmap for a reference type (loaded on first use)."""
        found = self._rmaps.get(reftype)
        if found is None:
            loaded = self.loader.load(self.entries[reftype])
            if not isinstance(loaded, ReferenceMapping):
                raise RuleValidationError(f"{self.name}: {self.entries[reftype]} is not an rmap")
            found = self._rmaps[reftype] = loaded
        return found

    @property
    def required_keys(self) -> tuple[str, ...]:
        """The union of the required keys of every rmap of this instrument."""
        if self._required is None:
            keys: dict[str, None] = {}
            for reftype, value in self.entries.items():
                if is_na_value(value) or is_omit_value(value):
                    continue
                keys.update(dict.fromkeys(self.rmap(reftype).required_keys))
            self._required = tuple(keys)
        return self._required

    def lookup(self, reftype: str, header: Mapping[str, str]) -> Terminal | Omitted:
        """Look up one reference type: a terminal, NOT_APPLICABLE or OMITTED."""
        rmap = self._rmaps.get(reftype)
        if rmap is not None:
            return rmap.lookup(header)
        value = self.entries.get(reftype)
        if value is None:
            raise UnknownReftypeError(
                f"Unknown reference type {reftype!r} for instrument {self.instrument.upper()} in "
                f"{self.name}; known types: {', '.join(sorted(self.entries))}"
            )
        if is_na_value(value):
            return NOT_APPLICABLE
        if is_omit_value(value):
            return OMITTED
        return self.rmap(reftype).lookup(header)


class PipelineMapping(RuleMapping):
    """A pmap: instrument → imap name."""

    kind = "PIPELINE"

    def __init__(self, ir: MappingIR, loader: LoaderLike) -> None:
        super().__init__(ir, loader)
        self.entries: dict[str, str] = {str(k).lower(): str(v) for k, v in self._entries()}
        self.instrument_key = str(tupled(self.parkey)[0]).upper() if self.parkey else "INSTRUME"
        self._imaps: dict[str, InstrumentMapping] = {}
        self._closure_checked = False
        self._minimal_keys: dict[str, tuple[str, ...]] = {}
        self._plans: dict[tuple[object, ...], KeyPlan] = {}
        self._instrument_keys = (self.instrument_key, self.instrument_key.lower(),
                                 *INSTRUMENT_KEYS)
        described = get_observatory(self.observatory)
        self._aliases = described.instrument_aliases
        self._meta_prefix = described.meta_prefix

    def imap(self, instrument: str) -> InstrumentMapping:
        """Return the imap of an instrument (lower-case name), loaded on first use."""
        found = self._imaps.get(instrument)
        if found is None:
            name = self.entries.get(instrument)
            if name is None:
                raise UnknownInstrumentError(
                    f"Unknown instrument {instrument.upper()!r} for context {self.name!r}; "
                    f"known: {', '.join(sorted(k.upper() for k in self.entries))}"
                )
            if is_na_value(name) or is_omit_value(name):
                raise ReferenceLookupError(
                    f"{self.name}: instrument {instrument.upper()!r} maps to {name!r}, which has "
                    "no defined result in a pipeline context"
                )
            self._require([name], instrument)
            loaded = self.loader.load(name)
            if not isinstance(loaded, InstrumentMapping):
                raise RuleValidationError(f"{self.name}: {name} is not an imap")
            self._require(loaded.rmap_names(), instrument)
            found = self._imaps[instrument] = loaded
        return found

    def _require(self, names: list[str], instrument: str = "") -> None:
        """Fail (category other) when mappings of `names` are absent from the cache.

        As CRDS, the unit of a lookup is its `instrument`: it reads the imap and every rmap
        it names (to reduce the parameters), so one absent rmap fails every type of that
        instrument, while the other instruments are served.
        """
        missing = [name for name in names if not self.loader.exists(name)]
        if missing:
            needed = f", needed by every {instrument.upper()} lookup" if instrument else ""
            raise FileNotCachedError(
                f"Context {self.name} names mapping files absent from the cache "
                f"{self.loader.describe()}{needed}: {', '.join(missing)}; fetch them with "
                f"`csst-crds sync --files {' '.join(missing)}`"
            )

    def mapping_names(self) -> list[str]:
        """Return the closure: this pmap, its imaps and their rmaps.

        Absent mappings are named too, but not the unknowable rmaps of an absent imap.
        """
        names = [self.name]
        for imap_name in self.entries.values():
            if is_na_value(imap_name) or is_omit_value(imap_name):
                continue
            names.append(imap_name)
            if self.loader.exists(imap_name):
                loaded = self.loader.load(imap_name)
                if isinstance(loaded, InstrumentMapping):
                    names.extend(loaded.rmap_names())
        return names

    def check_closure(self) -> None:
        """Fail (category other) when any mapping of the whole closure is absent.

        Lookups check only their instrument's part (see `imap`); this is for tools that
        need everything (affected datasets, verification).
        """
        if not self._closure_checked:
            self._require(self.mapping_names())
            self._closure_checked = True

    def find_instrument(self, header: Mapping[str, str]) -> str:
        """Return the instrument named by the parameters (RULES.md §3.1 step 6), lower case."""
        for key in self._instrument_keys:
            value = header.get(key)
            if value is not None and value != UNDEFINED:
                return self._instrument_name(value)
        return self._instrument_name(None)

    def _instrument_name(self, value: str | None) -> str:
        """Return the pmap's name for an instrument value; MissingInstrumentError for None."""
        if value is None:
            raise MissingInstrumentError(
                f"Missing {self.instrument_key!r} keyword in header for determining instrument."
            )
        name = value.lower()
        return self._aliases.get(name, name)

    def _keys_read(self, imap: InstrumentMapping) -> tuple[str, ...]:
        """Return the keys a lookup in `imap` reads: its rmaps' keys and the instrument key."""
        keys = self._minimal_keys.get(imap.name)
        if keys is None:
            keys = self._minimal_keys[imap.name] = tuple(
                dict.fromkeys((*imap.required_keys, self.instrument_key))
            )
        return keys

    def minimise(self, header: Mapping[str, str], imap: InstrumentMapping) -> dict[str, str]:
        """Reduce a conditioned header to the instrument's keys; absent keys become UNDEFINED."""
        get = header.get
        return {key: get(key, UNDEFINED) for key in self._keys_read(imap)}

    def _prepare(
        self, parameters: Mapping[str, object]
    ) -> tuple[InstrumentMapping, dict[str, str]]:
        """Return the imap and the minimised header of raw parameters, conditioning what is read.

        Equal to conditioning every parameter, then :meth:`find_instrument` and
        :meth:`minimise`; a header of hundreds of keys costs only the few the rules read.
        """
        keys = tuple(parameters)
        plan = self._plans.get(keys)
        if plan is None:
            if len(self._plans) >= _PLAN_LIMIT:
                self._plans.clear()
            plan = self._plans[keys] = KeyPlan(keys, self._meta_prefix)
        instrument = self._instrument_name(plan.first(parameters, self._instrument_keys))
        imap = self._imaps.get(instrument) or self.imap(instrument)
        return imap, plan.minimal(parameters, self._keys_read(imap))

    def best_references(
        self,
        parameters: Mapping[str, object],
        reftypes: Iterable[str] | None = None,
        *,
        conditioned: bool = False,
    ) -> tuple[InstrumentMapping, dict[str, Terminal | Exception]]:
        """Look up every requested type; omitted types are absent, failures are exceptions.

        Failures of the whole call (no or unknown instrument, a broken context) are raised.
        """
        if conditioned:
            instrument = self.find_instrument(parameters)  # type: ignore[arg-type]  # conditioned: str values
            imap = self._imaps.get(instrument) or self.imap(instrument)
            minimal = self.minimise(parameters, imap)  # type: ignore[arg-type]  # conditioned: str values
        else:
            imap, minimal = self._prepare(parameters)
        types = list(imap.entries) if reftypes is None else list(map(str.lower, reftypes))
        results: dict[str, Terminal | Exception] = {}
        rmaps = imap._rmaps
        for reftype in types:
            try:
                rmap = rmaps.get(reftype)
                value = rmap.lookup(minimal) if rmap is not None else imap.lookup(reftype, minimal)
            except ReferenceLookupError as exc:
                results[reftype] = exc
                continue
            if not isinstance(value, Omitted):
                results[reftype] = value
        return imap, results


def condition_parameters(parameters: Mapping[str, object], observatory: str = "") -> dict[str, str]:
    """Condition a flat parameter mapping (RULES.md §3.1 steps 1 and 3)."""
    return condition_mapping(parameters, get_observatory(observatory).meta_prefix)
