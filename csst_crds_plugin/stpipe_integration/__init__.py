"""stpipe integration: Step and Pipeline bases that take references from the provider.

The only engine package that imports stpipe. `ProviderStep` and `ProviderPipeline` route every
path by which stpipe would reach the CRDS library (``get_reference_file``, pipeline prefetch,
``pars-<step>`` parameters, provenance in ``finalize_result``) to
`csst_crds_plugin.ReferenceProvider`; nothing in a run calls the CRDS library.
"""

from csst_crds_plugin.stpipe_integration._bases import (
    SOFTWARE_VERSION,
    ProviderPipeline,
    ProviderStep,
    step_label,
)
from csst_crds_plugin.stpipe_integration._lookup import (
    StepReferenceError,
    clear_providers,
    explain_command,
    get_provider,
    reference_uri_to_cache_path,
)
from csst_crds_plugin.stpipe_integration._parameters import (
    check_override_paths,
    parameters_config,
    resolve_override_paths,
)
from csst_crds_plugin.stpipe_integration._provenance import (
    NOT_APPLICABLE_SOURCE,
    OVERRIDE,
    RULE,
    ReferenceUse,
    record_provenance,
    reference_uses,
)

__all__ = [
    "NOT_APPLICABLE_SOURCE",
    "OVERRIDE",
    "RULE",
    "SOFTWARE_VERSION",
    "ProviderPipeline",
    "ProviderStep",
    "ReferenceUse",
    "StepReferenceError",
    "check_override_paths",
    "clear_providers",
    "explain_command",
    "get_provider",
    "parameters_config",
    "record_provenance",
    "reference_uri_to_cache_path",
    "reference_uses",
    "resolve_override_paths",
    "step_label",
]
