"""``csst-crds diff``: logical differences between mappings and between reference files."""

from csst_crds_plugin.tools.diffing.changes import FileChange
from csst_crds_plugin.tools.diffing.mappings import (
    EntryChange,
    HeaderChange,
    MappingFinder,
    changed_mappings,
    diff_mapping_files,
)
from csst_crds_plugin.tools.diffing.references import diff_reference_files
from csst_crds_plugin.tools.diffing.report import DiffReport, diff_files
from csst_crds_plugin.tools.diffing.rules import DiffInputError, RuleChange, diff_rules

__all__ = [
    "DiffInputError",
    "DiffReport",
    "EntryChange",
    "FileChange",
    "HeaderChange",
    "MappingFinder",
    "RuleChange",
    "changed_mappings",
    "diff_files",
    "diff_mapping_files",
    "diff_reference_files",
    "diff_rules",
]
