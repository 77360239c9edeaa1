"""A small safe evaluator for rule expressions (RULES.md §3.3). Nothing is compiled or executed.

Grammar, with Python's meaning::

    expr       = and_test ('or' and_test)*
    and_test   = not_test ('and' not_test)*
    not_test   = 'not' not_test | comparison
    comparison = atom (comp_op atom)*
    comp_op    = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not' 'in'
    atom       = NAME | STRING | NUMBER | True | False | None | '(' expr ')' | tuple | list
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from typing import Any, Final

__all__ = ["EXPRESSION_NESTING_LIMIT", "Expression", "ExpressionError", "ExpressionSyntaxError"]

EXPRESSION_NESTING_LIMIT: Final = 64
"""Deepest nesting of operators and parentheses an expression may use; deeper is refused."""

# The operands are whatever the header and the literals hold; a comparison the types do not
# support raises TypeError, reported as an ExpressionError, so the operands are typed Any.
_COMPARE: Final[dict[type[ast.cmpop], Callable[[Any, Any], object]]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: operator.contains(b, a),
    ast.NotIn: lambda a, b: not operator.contains(b, a),
}


class ExpressionError(Exception):
    """An expression failed to evaluate (an unknown name, a comparison of str with int, ...)."""


class ExpressionSyntaxError(ValueError):
    """An expression uses a construct outside the grammar; ``offset`` locates it in the text."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _check(node: ast.AST, text: str, depth: int = 0) -> None:
    """Refuse every node outside the grammar, or nested too deeply, locating it."""
    if depth > EXPRESSION_NESTING_LIMIT:
        raise ExpressionSyntaxError(
            f"the expression is nested more than {EXPRESSION_NESTING_LIMIT} deep",
            _offset(node, text))
    depth += 1
    if isinstance(node, ast.Expression):
        _check(node.body, text, depth)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, text, depth)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check(node.operand, text, depth)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(
        node.operand, ast.Constant
    ) and isinstance(node.operand.value, (int, float)) and not isinstance(node.operand.value, bool):
        pass
    elif isinstance(node, ast.Compare):
        _check(node.left, text, depth)
        for comparator in node.comparators:
            _check(comparator, text, depth)
        for op in node.ops:
            if type(op) not in _COMPARE:
                raise ExpressionSyntaxError(f"operator {type(op).__name__} is not allowed",
                                            _offset(node, text))
    elif isinstance(node, (ast.Tuple, ast.List)):
        for element in node.elts:
            _check(element, text, depth)
    elif isinstance(node, ast.Constant) and (
        node.value is None or isinstance(node.value, (str, int, float, bool))
    ):
        pass
    elif isinstance(node, ast.Name):
        pass
    elif isinstance(node, ast.Attribute) and _dotted(node) is not None:
        pass  # a dotted parameter name that was not rewritten: fails at evaluation, as in CRDS
    else:
        raise ExpressionSyntaxError(
            f"{type(node).__name__} is not allowed in rule expressions "
            "(only names, literals, comparisons, in, and, or, not, tuples and lists)",
            _offset(node, text),
        )


def _offset(node: ast.AST, text: str) -> int:
    line = getattr(node, "lineno", 1)
    col = getattr(node, "col_offset", 0)
    lines = text.split("\n")
    return sum(len(row) + 1 for row in lines[: line - 1]) + col


class Expression:
    """A parsed, validated expression; ``evaluate(namespace)`` gives its value."""

    __slots__ = ("_tree", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise ExpressionSyntaxError(f"invalid expression: {exc.msg}",
                                        max((exc.offset or 1) - 1, 0)) from None
        except ValueError as exc:  # a NUL character
            raise ExpressionSyntaxError(f"invalid expression: {exc}", 0) from None
        except (RecursionError, MemoryError):  # Python's own parser gave up on the nesting
            raise ExpressionSyntaxError(
                f"the expression is nested more than {EXPRESSION_NESTING_LIMIT} deep", 0
            ) from None
        _check(tree, text)
        self._tree = tree.body

    def evaluate(self, namespace: Mapping[str, object]) -> object:
        """Evaluate against `namespace`; raise ExpressionError on any failure."""
        try:
            return self._eval(self._tree, namespace)
        except ExpressionError:
            raise
        except Exception as exc:
            raise ExpressionError(f"{type(exc).__name__}: {exc}") from exc

    def _eval(self, node: ast.expr, namespace: Mapping[str, object]) -> object:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in ("True", "False", "None"):
                return {"True": True, "False": False, "None": None}[node.id]
            try:
                return namespace[node.id]
            except KeyError:
                raise ExpressionError(f"name {node.id!r} is not defined") from None
        if isinstance(node, ast.Attribute):
            raise ExpressionError(f"name {_dotted(node)!r} is not defined")
        if isinstance(node, ast.BoolOp):
            result: object = None
            if isinstance(node.op, ast.And):
                for value in node.values:
                    result = self._eval(value, namespace)
                    if not result:
                        return result
                return result
            for value in node.values:
                result = self._eval(value, namespace)
                if result:
                    return result
            return result
        if isinstance(node, ast.UnaryOp):
            operand = self._eval(node.operand, namespace)
            if isinstance(node.op, ast.Not):
                return not operand
            return -operand  # type: ignore[operator]  # TypeError: reported as an ExpressionError
        if isinstance(node, ast.Compare):
            left = self._eval(node.left, namespace)
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                right = self._eval(comparator, namespace)
                if not _COMPARE[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.Tuple):
            return tuple(self._eval(e, namespace) for e in node.elts)
        if isinstance(node, ast.List):
            return [self._eval(e, namespace) for e in node.elts]
        raise ExpressionError(f"cannot evaluate {type(node).__name__}")

    def __repr__(self) -> str:
        """Show the expression's source text."""
        return f"Expression({self.text!r})"
