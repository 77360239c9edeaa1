"""Rule maintenance: insert references into rmaps, derive new contexts, deliver into a cache."""

from csst_crds_plugin.tools.delivery.bootstrap import (
    CSST_PARKEYS,
    TypesAdded,
    add_reference_types,
)
from csst_crds_plugin.tools.delivery.deliver import DeliveryResult, deliver
from csst_crds_plugin.tools.delivery.errors import (
    DeliveryError,
    DependencyError,
    InsertionError,
    LockTimeoutError,
    StaleContextError,
)
from csst_crds_plugin.tools.delivery.insert import Insertion, RmapInserter
from csst_crds_plugin.tools.delivery.newcontext import NewContext, RmapUpdate, derive_context
from csst_crds_plugin.tools.delivery.refactor import InsertResult, insert_references

__all__ = [
    "CSST_PARKEYS",
    "DeliveryError",
    "DeliveryResult",
    "DependencyError",
    "InsertResult",
    "Insertion",
    "InsertionError",
    "LockTimeoutError",
    "NewContext",
    "RmapInserter",
    "RmapUpdate",
    "StaleContextError",
    "TypesAdded",
    "add_reference_types",
    "deliver",
    "derive_context",
    "insert_references",
]
