"""changed_mappings: which rmaps differ between two contexts of a cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from csst_crds_plugin.tools.diffing import DiffInputError, changed_mappings


def test_replaced_and_added_rmaps(two_contexts: Path) -> None:
    # bias 0001 -> 0002 replaced, flat added; gain stays N/A and CPIC stays N/A: not listed
    assert changed_mappings(two_contexts, "csst_0001.pmap", "csst_0002.pmap") == {
        ("msc", "bias"): ("csst_msc_bias_0001.rmap", "csst_msc_bias_0002.rmap"),
        ("msc", "flat"): (None, "csst_msc_flat_0001.rmap"),
    }


def test_reverse_direction_and_specs(two_contexts: Path) -> None:
    # csst-operational is csst_0002.pmap in this cache's server_config
    assert changed_mappings(two_contexts, "csst-operational", "csst_0001.pmap") == {
        ("msc", "bias"): ("csst_msc_bias_0002.rmap", "csst_msc_bias_0001.rmap"),
        ("msc", "flat"): ("csst_msc_flat_0001.rmap", None),
    }
    assert changed_mappings(two_contexts, "csst_0002.pmap", "csst_0002.pmap") == {}


def test_missing_context_names_the_cache(two_contexts: Path) -> None:
    with pytest.raises(DiffInputError, match=r"csst_0009\.pmap is not in the cache .*mappings"):
        changed_mappings(two_contexts, "csst_0001.pmap", "csst_0009.pmap")
