"""Metric math for GetMetricData: arithmetic over the other queries' series.

moto answers an expression only when it is exactly another query's Id. The sandbox evaluates
arithmetic: query Ids, numbers, + - * / and parentheses (`100 * errors / requests`). As in
CloudWatch, two series combine at the timestamps both have, a series and a number combine at
every timestamp, and a division by zero leaves that timestamp out. Functions (SUM, METRICS,
FILL, SEARCH...) and Metrics Insights queries are not evaluated: `UnsupportedExpression`.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping

Series = dict[float, float]  # timestamp (epoch seconds) -> value

_OPERATORS: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


class UnsupportedExpression(Exception):
    """The expression uses metric math the sandbox does not evaluate."""


class UnknownReference(Exception):
    """The expression names an Id that is no query of the request."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def evaluate(expression: str, resolve: Callable[[str], Series]) -> Series:
    """The series `expression` stands for; `resolve` gives the series of a query Id (or raises KeyError)."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        raise UnsupportedExpression(expression) from None
    result = _evaluate(tree.body, resolve)
    if isinstance(result, float):
        raise UnsupportedExpression(expression)  # a constant: CloudWatch needs a time series
    return result


def references(expression: str) -> set[str]:
    """The query Ids `expression` names (empty when it cannot be parsed)."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _evaluate(node: ast.AST, resolve: Callable[[str], Series]) -> Series | float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.Name):
        try:
            return resolve(node.id)
        except KeyError:
            raise UnknownReference(node.id) from None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _evaluate(node.operand, resolve)
        sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
        if isinstance(operand, float):
            return sign * operand
        return {timestamp: sign * value for timestamp, value in operand.items()}
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _combine(_OPERATORS[type(node.op)], _evaluate(node.left, resolve), _evaluate(node.right, resolve))
    raise UnsupportedExpression(ast.unparse(node))


def _combine(op: Callable[[float, float], float], left: Series | float, right: Series | float) -> Series | float:
    if isinstance(left, float) and isinstance(right, float):
        return op(left, right)
    if isinstance(left, float):
        pairs: Mapping[float, tuple[float, float]] = {t: (left, v) for t, v in right.items()}  # type: ignore[union-attr]
    elif isinstance(right, float):
        pairs = {t: (v, right) for t, v in left.items()}
    else:
        pairs = {t: (v, right[t]) for t, v in left.items() if t in right}
    combined: Series = {}
    for timestamp, (a, b) in pairs.items():
        try:
            combined[timestamp] = op(a, b)
        except ZeroDivisionError:
            continue
    return combined
