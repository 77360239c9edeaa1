"""ReferenceProvider: the one lookup facade (DESIGN.md §3)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

from csst_crds_plugin.cache import CacheLayout, observatory_of
from csst_crds_plugin.context import MappingLoader, PipelineMapping, condition_parameters
from csst_crds_plugin.errors import ConfigurationError, CsstCrdsError, ReferenceLookupError
from csst_crds_plugin.results import NA, NOT_APPLICABLE, Selection, Terminal
from csst_crds_plugin.rules import parse_value_text
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
        self.layout = CacheLayout(self.cache_root, self.observatory)
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
        settings = get_settings()
        if explicit:
            return self._check_context_name(explicit, "the context argument")
        if settings.context:
            return self._check_context_name(settings.context, "CSST_CRDS_CONTEXT")
        crds = settings.crds_context
        if crds and observatory_of(crds) == self.observatory and crds.endswith(".pmap"):
            return crds
        operational = self._operational_context()
        if operational:
            return operational
        raise ConfigurationError(
            f"No context for observatory {self.observatory!r}: pass context=..., set "
            f"CSST_CRDS_CONTEXT=<name>.pmap, or fill the cache {self.cache_root} with "
            "`csst-crds sync` so that it has an operational context."
        )

    def _check_context_name(self, name: str, origin: str) -> str:
        if not name.endswith(".pmap"):
            raise ConfigurationError(
                f"{origin}={name!r} is not a pipeline context; give a .pmap name such as "
                f"{self.observatory}_0001.pmap"
            )
        return Path(name).name

    def _operational_context(self) -> str | None:
        config = self.layout.config_dir / "server_config"
        if not config.is_file():
            return None
        value = parse_value_text(config.read_text(encoding="utf-8"), str(config))
        if hasattr(value, "as_dict"):
            found = value.as_dict().get("operational_context")  # type: ignore[union-attr]
            return str(found) if found else None
        return None

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
        imap, results = self.pmap.best_references(parameters, reftypes)
        selections: dict[str, Selection] = {}
        last_error: Exception | None = None
        for reftype, value in results.items():
            rmap = imap.entries.get(reftype)
            if isinstance(value, Exception):
                last_error = value
                selections[reftype] = Selection(reftype, error=value, rmap=rmap)
            else:
                selections[reftype] = Selection(reftype, value=value, rmap=rmap)
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
        return str(self.layout.reference_path(value, instrument))

    def explain(self, parameters: Mapping[str, object], reftype: str) -> object:
        """Why a file is chosen: the rule path, per-key verdicts, the winner."""
        from csst_crds_plugin.explain import explain

        return explain(self, parameters, reftype)
