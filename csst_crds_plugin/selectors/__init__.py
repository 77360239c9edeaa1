"""Selectors: in-memory choice among keys, one family per module, registered by rule name."""

from csst_crds_plugin.selectors.base import (
    Choice,
    FallbackNoMatchError,
    Selector,
    SelectorOptions,
    registered_rule_names,
    selector_class,
)
from csst_crds_plugin.selectors.bracket import BracketSelector
from csst_crds_plugin.selectors.closest import ClosestTimeSelector
from csst_crds_plugin.selectors.match import MatchSelector
from csst_crds_plugin.selectors.nearest import GeometricallyNearestSelector
from csst_crds_plugin.selectors.useafter import UseAfterSelector
from csst_crds_plugin.selectors.values import condition_value
from csst_crds_plugin.selectors.versions import SelectVersionSelector, VersionAfterSelector

__all__ = [
    "BracketSelector",
    "Choice",
    "ClosestTimeSelector",
    "FallbackNoMatchError",
    "GeometricallyNearestSelector",
    "MatchSelector",
    "SelectVersionSelector",
    "Selector",
    "SelectorOptions",
    "UseAfterSelector",
    "VersionAfterSelector",
    "condition_value",
    "registered_rule_names",
    "selector_class",
]
