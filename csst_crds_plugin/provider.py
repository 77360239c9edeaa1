"""ReferenceProvider: the one lookup facade (DESIGN.md §3)."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

from csst_crds_plugin.cache import (
    CacheConfig,
    CacheLayout,
    load_config,
    observatory_of,
    resolve_context,
    resolve_default_context,
)
from csst_crds_plugin.cache.manifest import check_recorded_size
from csst_crds_plugin.context import MappingLoader, PipelineMapping, condition_parameters
from csst_crds_plugin.errors import (
    BadReferenceError,
    BadRulesError,
    ConfigurationError,
    CsstCrdsError,
    CsstCrdsWarning,
    ReferenceLookupError,
)
from csst_crds_plugin.results import NA, NOT_APPLICABLE, Selection, Terminal
from csst_crds_plugin.settings import get_settings

__all__ = ["ReferenceProvider"]

log = logging.getLogger(__name__)


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
                else "csst"
        self.observatory = observatory.lower()
        self.layout = CacheLayout(self.cache_root, self.observatory, readonly=settings.readonly)
        self._cache_config: CacheConfig | None = None
        self.ignore_checksum = bool(ignore_checksum or settings.ignore_checksum)
        self._context_name = self._resolve_context(context)
        self.loader = MappingLoader(
            self.layout.read_mapping,
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

    def _check_context_name(self, name: str, origin: str) -> str:
        return resolve_context(name, self.cache_config, origin)

    def _operational_context(self) -> str | None:
        return self.cache_config.operational

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
        pmap = self._pmap if self._pmap is not None else self.pmap
        imap, results = pmap.best_references(parameters, reftypes)
        selections: dict[str, Selection] = {}
        last_error: Exception | None = None
        entries = imap.entries
        for reftype, value in results.items():
            if isinstance(value, Exception):
                last_error = value
                selections[reftype] = Selection(reftype, None, value, entries.get(reftype))
            else:
                selections[reftype] = Selection(reftype, value, None, entries.get(reftype))
        if errors == "raise" and last_error is not None:
            failed = [s.reftype for s in selections.values() if s.error is not None]
            if len(failed) > 1:
                last_error.add_note(f"lookups also failed for: {', '.join(failed[:-1])}")
            raise last_error
        return selections

    def get_reference_file(self, parameters: Mapping[str, object], reftype: str) -> str:
        """The absolute cache path of the best reference, or ``"N/A"``."""
        reftype = reftype.lower()
        selection = self.best_references(parameters, [reftype])
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
        instrument = self.pmap.find_instrument(condition_parameters(parameters, self.observatory))
        self._check_bad_files(instrument, reftype, value)
        path = self.layout.locate_reference(value, instrument, self.cache_config.mirror)
        check_recorded_size(self.layout, value, path)
        return str(path)

    def _check_bad_files(self, instrument: str, reftype: str, name: str) -> None:
        """Bad rules, then bad references, with CRDS semantics (RULES.md §9.4)."""
        bad = self.cache_config.bad_files
        if not bad:
            return
        settings = get_settings()
        imap = self.pmap.imap(instrument)
        rules = sorted(bad.intersection([imap.name, *imap.rmap_names()]))
        if rules:
            message = (f"Final context {self.context!r} is marked as scientifically invalid "
                       f"based on: {rules}")
            if not settings.allow_bad_rules:
                raise BadRulesError(f"{message}; set CSST_CRDS_ALLOW_BAD_RULES=1 to use it anyway")
            warnings.warn(message, CsstCrdsWarning, stacklevel=3)
        if name in bad:
            message = (f"Recommended reference {name!r} of type {reftype!r} is designated "
                       "scientifically invalid.")
            if not settings.allow_bad_references:
                raise BadReferenceError(
                    f"{message} Set CSST_CRDS_ALLOW_BAD_REFERENCES=1 to use it anyway.")
            warnings.warn(message, CsstCrdsWarning, stacklevel=3)

    def explain(self, parameters: Mapping[str, object], reftype: str) -> object:
        """Why a file is chosen: the rule path, per-key verdicts, the winner."""
        from csst_crds_plugin.explain import explain

        return explain(self, parameters, reftype)
