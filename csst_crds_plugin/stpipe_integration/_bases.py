"""`ProviderStep` and `ProviderPipeline`: stpipe bases whose every CRDS path goes to the provider.

stpipe has no hook for a reference provider: it calls the CRDS library from
``get_reference_file``, from a pipeline's ``_precache_references``, from the ``pars-<step>``
lookup (``_get_config_from_parameters``) and, in mission code, from ``finalize_result``.
These bases override exactly those methods.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from stpipe import config_parser
from stpipe.datamodel import AbstractDataModel
from stpipe.pipeline import Pipeline
from stpipe.step import Step

from csst_crds_plugin.errors import CsstCrdsError, ReferenceLookupError
from csst_crds_plugin.results import NA, RefSource
from csst_crds_plugin.stpipe_integration._activation import (
    SOFTWARE_VERSION,
    get_provider,
    provider_scope,
)
from csst_crds_plugin.stpipe_integration._checksums import with_checksums
from csst_crds_plugin.stpipe_integration._lookup import (
    locate,
    select_reference,
    step_label,
    step_lookup_error,
)
from csst_crds_plugin.stpipe_integration._parameters import (
    parameters_config,
    resolve_override_paths,
)
from csst_crds_plugin.stpipe_integration._provenance import (
    record_provenance,
    records_csst_provenance,
    reference_uses,
)
from csst_crds_plugin.stpipe_integration._run_record import record_run

__all__ = ["ProviderPipeline", "ProviderStep"]

log = logging.getLogger(__name__)


class ProviderStep(Step):
    """A stpipe `Step` whose references and parameters come from the `ReferenceProvider`.

    Overrides (``override_<reftype>``) go through stpipe's own branch; a relative override
    path in a parameter file is taken from that file's folder. ``finalize_result`` writes the
    context, this software's version and each reference with its source onto a CSST result.

    ``run`` keeps the plugin registered with stpipe (`activate`) while the step runs, so a
    mission base mixed in (``class S(ProviderStep, DQInitStep)`` in either order) records the
    provider's context and version in its own ``finalize_result``, never CRDS's.
    """

    def run(self, *args: Any) -> Any:
        """As stpipe's ``run``, with the plugin registered for the run."""
        with provider_scope():
            return super().run(*args)

    def get_reference_file(self, input_file: Any, reference_file_type: str) -> Any:
        """Return the override if one is set (stpipe's branch), else the provider's path or N/A."""
        if self.get_ref_override(reference_file_type) is not None:
            return super().get_reference_file(input_file, reference_file_type)
        parameters, observatory = self._get_crds_parameters(input_file)
        path = select_reference(step_label(self), parameters, observatory, reference_file_type)
        recorded = NA if path == NA else "crds://" + path.rsplit(os.sep, 1)[-1]
        self._reference_files_used.append((reference_file_type, recorded))
        return path

    @classmethod
    def _get_config_from_parameters(cls, crds_parameters: dict[str, Any],
                                    crds_observatory: str) -> Any:
        """Return the ``pars-<class>`` parameters from the provider; none found means defaults."""
        return parameters_config(cls, crds_parameters, crds_observatory)

    @classmethod
    def from_config_section(cls, config: Any, parent: Step | None = None,
                            name: str | None = None, config_file: Any = None) -> Any:
        """As stpipe, but relative override paths of a parameter file start at its folder."""
        if config_file:
            resolve_override_paths(config, Path(config_file).absolute().parent)
        return super().from_config_section(config, parent=parent, name=name,
                                           config_file=config_file)

    def finalize_result(self, result: Any, reference_files_used: list[tuple[str, Any]]) -> None:
        """Record the context, software version and references used on `result`.

        A mission's own ``finalize_result`` (jwst, romancal) runs first, with the plugin
        registered, and records in the mission's schema; the CSST record is written only on
        models that offer it (``meta.ref_file.set``).
        """
        with provider_scope():
            super().finalize_result(result, reference_files_used)
        if not isinstance(result, AbstractDataModel) or not records_csst_provenance(result):
            return
        uses = reference_uses(reference_files_used,
                              lambda reftype: self.get_ref_override(reftype) is not None)
        context = None
        try:
            context = get_provider(result.crds_observatory).context
        except CsstCrdsError as exc:
            if any(use.source == RefSource.RULE for use in uses.values()):
                raise
            log.debug("%s: no context to record (%s)", step_label(self), exc)
        hashed = with_checksums(uses.values(), result.crds_observatory)
        if record_provenance(result, context, SOFTWARE_VERSION, hashed) \
                and self.parent is None:
            record_run(self, result)
            log.info("Results used context %s", context)


class ProviderPipeline(Pipeline, ProviderStep):
    """A stpipe `Pipeline` on the provider: batched prefetch, ``pars-*`` for every step.

    ``_precache_references`` and ``_get_config_from_parameters`` live here because
    `Pipeline` precedes `ProviderStep` in the method resolution order.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Give the pipeline its first step's default ``output_ext`` when it has none.

        stpipe's ``output_ext`` has no default; mission step bases give one (``.asdf``,
        ``.fits``), and a pipeline around their steps takes the same.
        """
        super().__init_subclass__(**kwargs)
        if "default=" in str(config_parser.get_merged_spec_file(cls).get("output_ext", "")):
            return
        for step_class in getattr(cls, "step_defs", {}).values():
            found = str(config_parser.get_merged_spec_file(step_class).get("output_ext", ""))
            if "default=" in found:
                cls.spec = f"{cls.__dict__.get('spec', '')}\noutput_ext = {found}\n"
                return

    @classmethod
    def _datamodels_open(cls, init: Any, **kwargs: Any) -> Any:
        """Open as the first of its steps that can (a mission's steps open mission models)."""
        base = Step._datamodels_open.__func__
        for step_class in cls.step_defs.values():
            opener = step_class._datamodels_open
            if getattr(opener, "__func__", None) is not base:
                return opener(init, **kwargs)
        return super()._datamodels_open(init, **kwargs)

    @classmethod
    def _get_config_from_parameters(cls, crds_parameters: dict[str, Any],
                                    crds_observatory: str) -> Any:
        """Each step's ``pars-*`` parameters, then the pipeline's, from the provider."""
        return parameters_config(cls, crds_parameters, crds_observatory)

    @classmethod
    def merge_config(cls, config: Any, config_file: Any) -> Any:
        """As stpipe, but overrides in a step's own parameter file start at that file's folder."""
        steps = config.get("steps", {})
        for key in cls.step_defs:
            section = steps.get(key)
            if section is None or not section.get("config_file"):
                continue
            path = Path(config_file or "").parent / section["config_file"]
            loaded = config_parser.load_config_file(str(path))
            resolve_override_paths(loaded, path.absolute().parent)
            del section["config_file"]
            config_parser.merge_config(loaded, section)
            steps[key] = loaded
        return config

    def _precache_references(self, input_file: Any) -> None:
        """Select every type of every step in one provider call, and check the files exist."""
        try:
            parameters, observatory = self._get_crds_parameters(input_file)
        except (ValueError, TypeError, OSError):
            log.info("First argument %s does not appear to be a model", input_file)
            return
        types = self.reference_file_types
        overrides = {t: self.get_ref_override(t) for t in types
                     if self.get_ref_override(t) is not None}
        wanted = sorted(set(types) - set(overrides))
        for reftype, value in sorted(overrides.items()):
            log.info("Override for %s reference file is '%s'.", reftype.upper(), value)
        if not wanted:
            return
        log.info("Prefetching reference files for dataset: %r reftypes = %r",
                 self._get_filename(input_file), wanted)
        provider = get_provider(observatory)
        try:
            selections = provider.best_references(parameters, wanted, errors="collect")
        except ReferenceLookupError as exc:
            raise step_lookup_error(self._users(wanted[0]), wanted[0], provider, parameters,
                                    exc) from exc
        failed = [(s, s.error) for s in selections.values() if s.error is not None]
        if failed:
            first, cause = failed[0]
            others = ", ".join(s.reftype for s, _ in failed[1:])
            if not isinstance(cause, ReferenceLookupError):  # e.g. a bad reference
                cause.add_note(f"while prefetching {first.reftype} for "
                               f"{self._users(first.reftype)} under {provider.context}")
                raise cause
            error = step_lookup_error(self._users(first.reftype), first.reftype, provider,
                                      parameters, cause)
            if others:
                error.add_note(f"lookups also failed for: {others}")
            raise error from cause
        for reftype in wanted:
            selection = selections.get(reftype)
            if selection is None:
                log.info("Prefetch for %s: omitted by %s", reftype.upper(), provider.context)
            elif selection.not_applicable:
                log.info("Prefetch for %s reference file is 'N/A'.", reftype.upper())
            else:
                for name in selection.files():
                    path = locate(provider, parameters, name)
                    log.info("Prefetch for %s reference file is '%s'.", reftype.upper(), path)

    def _users(self, reftype: str) -> str:
        """Return the steps of this pipeline that use `reftype`, for messages."""
        names = [step_label(step) for step in self._unskipped_steps
                 if reftype in step.reference_file_types]
        return ", ".join(names) or self.name
