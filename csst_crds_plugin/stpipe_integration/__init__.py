"""stpipe integration: Step and Pipeline bases that take references from the provider.

The only engine package that imports stpipe. `activate` registers the provider with stpipe
for the whole process, so every Step and Pipeline (CSST's, jwst's, romancal's) resolves its
references through `csst_crds_plugin.ReferenceProvider`; `ProviderStep` and
`ProviderPipeline` are the bases of steps written for the plugin, and keep it registered
while they run. Nothing in a run calls the CRDS library.
"""

from csst_crds_plugin.stpipe_integration._activation import (
    SOFTWARE_VERSION,
    STPIPE_VERSIONS,
    Activation,
    activate,
    active,
    crds_compatible,
    deactivate,
    get_provider,
    provider_scope,
)
from csst_crds_plugin.stpipe_integration._bases import ProviderPipeline, ProviderStep
from csst_crds_plugin.stpipe_integration._lookup import (
    StepReferenceError,
    explain_command,
    reference_uri_to_cache_path,
    step_label,
)
from csst_crds_plugin.stpipe_integration._parameters import (
    check_override_paths,
    parameters_config,
    resolve_override_paths,
)
from csst_crds_plugin.stpipe_integration._provenance import (
    ReferenceUse,
    record_provenance,
    reference_uses,
)
from csst_crds_plugin.stpipe_integration._providers import clear_providers

__all__ = [
    "SOFTWARE_VERSION",
    "STPIPE_VERSIONS",
    "Activation",
    "ProviderPipeline",
    "ProviderStep",
    "ReferenceUse",
    "StepReferenceError",
    "activate",
    "active",
    "check_override_paths",
    "clear_providers",
    "crds_compatible",
    "deactivate",
    "explain_command",
    "get_provider",
    "parameters_config",
    "provider_scope",
    "record_provenance",
    "reference_uri_to_cache_path",
    "reference_uses",
    "resolve_override_paths",
    "step_label",
]
