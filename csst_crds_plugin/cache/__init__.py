"""The serverless cache: layout and safe paths, atomic writes, config, integrity manifest."""

from csst_crds_plugin.cache.config import (
    CacheConfig,
    HistoryEntry,
    load_config,
    resolve_context,
    resolve_default_context,
)
from csst_crds_plugin.cache.layout import (
    TEMP_PREFIX,
    CacheLayout,
    check_name,
    instrument_of_name,
    observatory_of,
)
from csst_crds_plugin.cache.manifest import Digest, digest_file, read_manifest, update_manifest

__all__ = [
    "TEMP_PREFIX",
    "CacheConfig",
    "CacheLayout",
    "Digest",
    "HistoryEntry",
    "check_name",
    "digest_file",
    "instrument_of_name",
    "load_config",
    "observatory_of",
    "read_manifest",
    "resolve_context",
    "resolve_default_context",
    "update_manifest",
]
