"""ReferenceProvider: the one lookup facade (DESIGN.md §3)."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from csst_crds_plugin.cache import (
    CacheConfig,
    CacheLayout,
    instrument_of_name,
    load_config,
    observatory_of,
    resolve_default_context,
)
from csst_crds_plugin.cache.manifest import check_recorded_size
from csst_crds_plugin.context import (
    InstrumentMapping,
    PipelineMapping,
    condition_parameters,
)
from csst_crds_plugin.errors import (
    BadReferenceError,
    BadRulesError,
    ConfigurationError,
    CsstCrdsError,
    CsstCrdsWarning,
    ReferenceLookupError,
)
from csst_crds_plugin.loader import MappingLoader
from csst_crds_plugin.observatories import DEFAULT_OBSERVATORY
from csst_crds_plugin.results import NA, NOT_APPLICABLE, Selection, Terminal, terminal_files
from csst_crds_plugin.select_many import select_many
from csst_crds_plugin.selectors.bulk import BulkSelections
from csst_crds_plugin.settings import get_settings

if TYPE_CHECKING:
    from csst_crds_plugin.explain import Explanation

__all__ = ["ReferenceProvider"]

log = logging.getLogger(__name__)

new_selection: Callable[[tuple[object, ...]], Selection] = partial(tuple.__new__, Selection)
"""``Selection(*fields)`` with all four fields given, without the named tuple's own __new__."""


class ReferenceProvider:
    """Best references from a cache of CRDS-syntax rules, without a server.

    Parameters
    ----------
    cache : path, optional
        The cache root; default the settings' root (``CSST_CRDS_PATH``).
    context : str, optional
        A pmap name; default the pinned or operational context.
    observatory : str, optional
        Default: from the context name, else ``csst``.
    ignore_checksum : bool
        Do not verify mapping checksums (also ``CSST_CRDS_IGNORE_CHECKSUM``).
    """

    def __init__(
        self,
        cache: str | Path | None = None,
        context: str | None = None,
        observatory: str | None = None,
        ignore_checksum: bool = False,
    ) -> None:
        settings = get_settings()
        self.cache_root = Path(cache) if cache is not None else settings.cache_root
        if observatory is None:
            observatory = observatory_of(context) if context and context.endswith(".pmap") \
                else DEFAULT_OBSERVATORY
        self.observatory = observatory.lower()
        self.layout = CacheLayout(self.cache_root, self.observatory, readonly=settings.readonly)
        self._cache_config: CacheConfig | None = None
        self.ignore_checksum = bool(ignore_checksum or settings.ignore_checksum)
        self._context_name = self._resolve_context(context)
        self.loader = MappingLoader(
            self.layout.read_mapping_data,
            self.layout.has_mapping,
            ignore_checksum=self.ignore_checksum,
            label=str(self.layout.mappings_dir),
        )
        self._pmap: PipelineMapping | None = None

    # -- context -------------------------------------------------------------------------------
    def _resolve_context(self, explicit: str | None) -> str:
        name, origin = resolve_default_context(explicit, get_settings(), self.layout)
        log.info("context %s (from %s)", name, origin)
        return name

    @property
    def cache_config(self) -> CacheConfig:
        """The cache's ``config/<obs>/``: operational context, history, bad files."""
        if self._cache_config is None:
            self._cache_config = load_config(self.layout)
        return self._cache_config

    @property
    def context(self) -> str:
        """The resolved pipeline context name, e.g. ``csst_0042.pmap``."""
        return self._context_name

    @property
    def pmap(self) -> PipelineMapping:
        """The loaded pipeline context."""
        if self._pmap is None:
            loaded = self.loader.load(self._context_name)
            if not isinstance(loaded, PipelineMapping):
                raise ConfigurationError(f"{self._context_name} is not a pipeline context (.pmap)")
            self._pmap = loaded
        return self._pmap

    # -- lookups -------------------------------------------------------------------------------
    def best_references(
        self,
        parameters: Mapping[str, object],
        reftypes: Iterable[str] | None = None,
        *,
        errors: Literal["raise", "collect"] = "raise",
    ) -> dict[str, Selection]:
        """Select every requested type; omitted types are absent.

        With ``errors="raise"`` the last failing type's exception is raised (CRDS's rule);
        with ``errors="collect"`` failures are kept in each Selection's ``error``.
        """
        return self._select(parameters, reftypes, errors)[1]

    def _select(self, parameters: Mapping[str, object], reftypes: Iterable[str] | None,
                errors: Literal["raise", "collect"]
                ) -> tuple[InstrumentMapping, dict[str, Selection]]:
        """`best_references` and the instrument's imap (parameters conditioned once)."""
        pmap = self._pmap if self._pmap is not None else self.pmap
        imap, results = pmap.best_references(parameters, reftypes)
        bad = self.cache_config.bad_files
        if bad:
            self._check_bad_rules(imap)
        selections: dict[str, Selection] = {}
        last_error: Exception | None = None
        entries = imap.entries
        for reftype, value in results.items():
            if bad and not isinstance(value, Exception):
                try:
                    for name in terminal_files(value):
                        self._check_bad_reference(reftype, name)
                except BadReferenceError as exc:
                    value = exc
            if isinstance(value, Exception):
                last_error = value
                selections[reftype] = new_selection((reftype, None, value, entries.get(reftype)))
            else:
                selections[reftype] = new_selection((reftype, value, None, entries.get(reftype)))
        if errors == "raise" and last_error is not None:
            failed = [s.reftype for s in selections.values() if s.error is not None]
            if len(failed) > 1:
                last_error.add_note(f"lookups also failed for: {', '.join(failed[:-1])}")
            raise last_error
        return imap, selections

    def best_references_many(
        self,
        parameters: Mapping[str, Sequence[object]] | Sequence[Mapping[str, object]],
        reftypes: Iterable[str] | None = None,
    ) -> BulkSelections:
        """Select for many parameter sets at once, vectorised where the rules allow.

        Parameters
        ----------
        parameters : mapping of columns, or sequence of mappings
            Columns ``{name: sequence or numpy array}`` of equal length (row ``i`` is
            ``{name: column[i]}``, numpy arrays read as ``tolist()`` values), or rows.
        reftypes : iterable of str, optional
            As for :meth:`best_references`.

        Returns
        -------
        BulkSelections
            ``row(i)`` equals ``best_references(row_i, reftypes, errors="collect")`` (and
            raises what it raises); ``values(reftype)`` gives one type for every row.
            Bad-file lists are not applied here: check them with ``best_references``.
        """
        return select_many(self.pmap, parameters, reftypes, self.observatory)

    def get_reference_file(self, parameters: Mapping[str, object], reftype: str) -> str:
        """Return the absolute cache path of the best reference, or ``"N/A"``."""
        reftype = reftype.lower()
        imap, selection = self._select(parameters, [reftype], "raise")
        if reftype not in selection:
            raise ReferenceLookupError(
                f"reference type {reftype!r} is omitted (OMIT) by {self.context} for these "
                "parameters"
            )
        value: Terminal | None = selection[reftype].value
        if value is NOT_APPLICABLE:
            return NA
        if not isinstance(value, str):
            raise CsstCrdsError(
                f"{self.context} selects {value!r} for {reftype!r}: not a single file; "
                "use best_references() for tuple or mapping results"
            )
        return str(self._locate(imap.instrument, value))

    def reference_paths(self, parameters: Mapping[str, object],
                        reftypes: Iterable[str] | None = None) -> dict[str, str]:
        """``{reftype: absolute cache path or "N/A"}``; omitted types are absent.

        What stpipe's ``get_multiple_reference_paths`` returns: the first failing type
        raises (CRDS's rule), and a tuple or mapping result is an error.
        """
        paths: dict[str, str] = {}
        imap, found = self._select(parameters, reftypes, "raise")
        for reftype, selection in found.items():
            value = selection.value
            if value is NOT_APPLICABLE:
                paths[reftype] = NA
            elif isinstance(value, str):
                paths[reftype] = str(self._locate(imap.instrument, value))
            else:
                raise CsstCrdsError(
                    f"{self.context} selects {value!r} for {reftype!r}: not a single file; "
                    "use best_references() for tuple or mapping results"
                )
        return paths

    def keys_read(self, parameters: Mapping[str, object], reftype: str) -> tuple[str, ...]:
        """Return the parameters a lookup of `reftype` reads: the instrument key, then its rmap's.

        As the rules spell them (upper case, the observatory's prefix). Raises what the
        lookup would for a missing or unknown instrument.
        """
        pmap = self.pmap
        imap = pmap.imap(pmap.find_instrument(condition_parameters(parameters, self.observatory)))
        keys = [pmap.instrument_key]
        if imap.entries.get(reftype.lower()) in imap.rmap_names():
            keys.extend(imap.rmap(reftype.lower()).required_keys)
        return tuple(dict.fromkeys(keys))

    def locate(self, parameters: Mapping[str, object], name: str) -> Path:
        """Return the cache path of reference `name` selected for `parameters` (size checked)."""
        instrument = self.pmap.find_instrument(condition_parameters(parameters, self.observatory))
        return self._locate(instrument, name)

    def locate_name(self, name: str) -> Path:
        """Return the path of reference `name` alone (``crds://name``), never outside the root."""
        return self._locate(instrument_of_name(name), name)

    def _locate(self, instrument: str | None, name: str) -> Path:
        path = self.layout.locate_reference(name, instrument, self.cache_config.mirror)
        check_recorded_size(self.layout, name, path)
        return path

    def _check_bad_rules(self, imap: InstrumentMapping) -> None:
        """Fail (or warn) when the instrument's imap or one of its rmaps is marked bad."""
        rules = sorted(self.cache_config.bad_files.intersection([imap.name, *imap.rmap_names()]))
        if rules:
            message = (f"Final context {self.context!r} is marked as scientifically invalid "
                       f"based on: {rules}")
            if not get_settings().allow_bad_rules:
                raise BadRulesError(f"{message}; set CSST_CRDS_ALLOW_BAD_RULES=1 to use it anyway")
            warnings.warn(message, CsstCrdsWarning, stacklevel=5)

    def _check_bad_reference(self, reftype: str, name: str) -> None:
        """Fail (or warn) when a selected reference is marked bad."""
        if name in self.cache_config.bad_files:
            message = (f"Recommended reference {name!r} of type {reftype!r} is designated "
                       "scientifically invalid.")
            if not get_settings().allow_bad_references:
                raise BadReferenceError(
                    f"{message} Set CSST_CRDS_ALLOW_BAD_REFERENCES=1 to use it anyway.")
            warnings.warn(message, CsstCrdsWarning, stacklevel=5)

    def explain(self, parameters: Mapping[str, object], reftype: str) -> Explanation:
        """Why a file is chosen: the rule path, per-key verdicts, the winner."""
        from csst_crds_plugin.explain import explain  # only when asked: keeps start-up short

        return explain(self, parameters, reftype)
