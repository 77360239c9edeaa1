"""Rule text to intermediate form and back: parser, writer, checksum, expressions."""

from csst_crds_plugin.rules.checksum import compute_sha1sum, set_sha1sum, sha1sum_problem
from csst_crds_plugin.rules.expressions import Expression, ExpressionError, ExpressionSyntaxError
from csst_crds_plugin.rules.ir import DictNode, MappingIR, PairColumns, SelectorNode
from csst_crds_plugin.rules.parser import parse_mapping, parse_value_text
from csst_crds_plugin.rules.writer import format_mapping, format_value

__all__ = [
    "DictNode",
    "Expression",
    "ExpressionError",
    "ExpressionSyntaxError",
    "MappingIR",
    "PairColumns",
    "SelectorNode",
    "compute_sha1sum",
    "format_mapping",
    "format_value",
    "parse_mapping",
    "parse_value_text",
    "set_sha1sum",
    "sha1sum_problem",
]
