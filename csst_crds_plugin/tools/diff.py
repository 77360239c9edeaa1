"""``csst-crds diff``: the public functions (implementation in ``tools/diffing/``).

``changed_mappings(cache, old_context, new_context)`` lists the rmaps that differ between two
contexts and ``diff_rules(old_rmap, new_rmap)`` the rule changes of one rmap pair; both are used
by the affected-datasets analysis. ``diff_files(a, b)`` is what the command runs.
"""

from csst_crds_plugin.tools.diffing import (
    DiffInputError,
    DiffReport,
    EntryChange,
    FileChange,
    HeaderChange,
    RuleChange,
    changed_mappings,
    diff_files,
    diff_mapping_files,
    diff_reference_files,
    diff_rules,
)

__all__ = [
    "DiffInputError",
    "DiffReport",
    "EntryChange",
    "FileChange",
    "HeaderChange",
    "RuleChange",
    "changed_mappings",
    "diff_files",
    "diff_mapping_files",
    "diff_reference_files",
    "diff_rules",
]
