"""Evaluate a CloudWatch metric-math expression for one period, so a math alarm is judged by what it computes.

Covers the arithmetic and the functions a wake alarm plausibly uses (FILL, IF, MAX, MIN, SUM, AVG,
ABS, comparisons, AND/OR); anything else is reported as not evaluable rather than guessed. Missing
data is None and propagates as CloudWatch does (arithmetic on a missing value is missing; FILL
replaces it).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping

Value = float | None


class NotEvaluableError(ValueError):
    """An expression outside the subset: the caller reports it as not judged, with this reason."""


_BIN: dict[type, Callable[[float, float], float]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b if b else float("nan"),
}
_CMP: dict[type, Callable[[float, float], bool]] = {
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
}


def _prepare(expression: str) -> str:
    # CloudWatch writes AND/OR/NOT and == in upper case; Python's parser wants lower-case keywords.
    return expression.replace(" AND ", " and ").replace(" OR ", " or ").replace("NOT ", "not ")


def evaluate(expression: str, series: Mapping[str, Value]) -> Value:
    """The expression's value for one period, given each referenced id's datapoint (None: missing)."""
    if len(expression) > 1024:
        raise NotEvaluableError("expression longer than CloudWatch allows (1024)")
    try:
        tree = ast.parse(_prepare(expression), mode="eval")
    except SyntaxError:
        raise NotEvaluableError(f"cannot parse {expression!r}") from None
    try:
        value = _eval(tree.body, series)
    except (RecursionError, OverflowError):
        raise NotEvaluableError(f"{expression!r} is too deep or too large to evaluate") from None
    if value is not None and not math.isfinite(value):
        return None  # CloudWatch drops non-finite results: the period has no datapoint
    return value


def _num(v: Value | bool) -> Value:
    return None if v is None else float(v)


def _eval(node: ast.AST, s: Mapping[str, Value]) -> Value:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id not in s:
            raise NotEvaluableError(f"{node.id} is not a query of this alarm")
        return s[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
        v = _eval(node.operand, s)
        if v is None:
            return None
        if isinstance(node.op, ast.Not):
            return float(not v)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
        a, b = _eval(node.left, s), _eval(node.right, s)
        return None if a is None or b is None else _BIN[type(node.op)](a, b)
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _CMP:
        a, b = _eval(node.left, s), _eval(node.comparators[0], s)
        return None if a is None or b is None else float(_CMP[type(node.ops[0])](a, b))
    if isinstance(node, ast.BoolOp):
        vals = [_eval(v, s) for v in node.values]
        if any(v is None for v in vals):
            return None
        agg = all if isinstance(node.op, ast.And) else any
        return float(agg(bool(v) for v in vals))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return _call(node.func.id.upper(), node.args, s)
    raise NotEvaluableError(f"{ast.unparse(node)!r} is outside what sagezero evaluates")


def _items(args: list[ast.expr], s: Mapping[str, Value]) -> list[Value]:
    if len(args) == 1 and isinstance(args[0], ast.List):
        return [_eval(e, s) for e in args[0].elts]
    return [_eval(a, s) for a in args]


def _call(name: str, args: list[ast.expr], s: Mapping[str, Value]) -> Value:
    if name == "FILL" and len(args) == 2:
        v, fill = _eval(args[0], s), _eval(args[1], s)
        return fill if v is None else v
    if name == "IF" and len(args) in (2, 3):
        cond = _eval(args[0], s)
        if cond is None:
            return None
        if cond:
            return _eval(args[1], s)
        return _eval(args[2], s) if len(args) == 3 else None
    if name == "ABS" and len(args) == 1:
        v = _eval(args[0], s)
        return None if v is None else abs(v)
    if name in ("MAX", "MIN", "SUM", "AVG"):
        present = [v for v in _items(args, s) if v is not None]
        if not present:
            return None
        if name == "MAX":
            return max(present)
        if name == "MIN":
            return min(present)
        total = sum(present)
        return total if name == "SUM" else total / len(present)
    raise NotEvaluableError(f"function {name} is outside what sagezero evaluates")
