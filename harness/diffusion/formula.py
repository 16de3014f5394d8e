"""Formulas of user weightings: a small arithmetic language over float64 numpy arrays.

A formula is parsed with Python's `ast` (which runs nothing) and every node is checked against
an allowlist before anything is evaluated: numbers, the variables and parameters it was given,
``+ - * / **``, unary minus, and calls of FUNCTIONS with positional arguments. Everything else
(attributes, subscripts, lambdas, comprehensions, keywords, strings, names it was not given,
``__import__``) is refused, as are texts over MAX_LENGTH characters or MAX_NODES nodes. The
exponent of ``**`` must be a constant (numbers and parameters) of magnitude at most
MAX_EXPONENT, so ``10**10**10`` is refused before any power is taken. Evaluation walks the
checked tree with numpy's float64 ufuncs; it never calls `eval` or `compile`.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

MAX_LENGTH = 400
MAX_NODES = 200
MAX_EXPONENT = 64.0


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _reduce(ufunc: np.ufunc) -> Callable[..., np.ndarray]:
    return lambda *args: functools.reduce(ufunc, args)


# name -> (fewest arguments, most arguments, function)
FUNCTIONS: dict[str, tuple[int, int, Callable[..., np.ndarray]]] = {
    "exp": (1, 1, np.exp), "log": (1, 1, np.log), "log1p": (1, 1, np.log1p),
    "expm1": (1, 1, np.expm1), "sqrt": (1, 1, np.sqrt), "abs": (1, 1, np.abs),
    "tanh": (1, 1, np.tanh), "sin": (1, 1, np.sin), "cos": (1, 1, np.cos),
    "arctan": (1, 1, np.arctan), "sigmoid": (1, 1, _sigmoid),
    "softplus": (1, 1, lambda x: np.logaddexp(0.0, x)),
    "minimum": (2, 8, _reduce(np.minimum)), "maximum": (2, 8, _reduce(np.maximum)),
    "min": (2, 8, _reduce(np.minimum)), "max": (2, 8, _reduce(np.maximum)),
    "clip": (3, 3, np.clip),
}
_BINARY: dict[type, np.ufunc] = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply,
                                 ast.Div: np.true_divide, ast.Pow: np.power}
_REFUSED: dict[type, str] = {
    ast.Attribute: "attribute access", ast.Subscript: "indexing", ast.Lambda: "lambda",
    ast.ListComp: "comprehensions", ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions", ast.GeneratorExp: "comprehensions",
    ast.Compare: "comparisons", ast.BoolOp: "and/or", ast.IfExp: "if-else",
    ast.NamedExpr: "assignment", ast.Await: "await", ast.JoinedStr: "strings",
}


class FormulaError(ValueError):
    """A formula that is refused; the message says why (the caller names the key)."""


@dataclass(frozen=True)
class Formula:
    """A checked formula: ``evaluate`` computes it from the values of its names."""

    text: str
    tree: ast.expr
    names: frozenset[str]  # the variables and parameters it uses

    def evaluate(self, values: Mapping[str, np.ndarray | float]) -> np.ndarray:
        """The formula in float64 (NaN and infinities propagate; callers check them)."""
        with np.errstate(all="ignore"):
            return np.asarray(_evaluate(self.tree, values), dtype=np.float64)


def parse_formula(text: str, variables: tuple[str, ...],
                  params: Mapping[str, float] | None = None) -> Formula:
    """Check ``text`` (see the module docstring); FormulaError says what is refused."""
    params = dict(params or {})
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("is empty; write an expression of " + ", ".join(variables))
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"is {len(text)} characters long; at most {MAX_LENGTH}")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as err:
        raise FormulaError(f"syntax error at column {err.offset}: {err.msg}") from None
    except ValueError as err:  # e.g. a null byte
        raise FormulaError(str(err)) from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise FormulaError(f"has {count} parts; at most {MAX_NODES}")
    known = set(variables) | set(params)
    _check(tree, known, params)
    names = frozenset(n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
                      and n.id in known)
    return Formula(text.strip(), tree, names)


def _check(node: ast.AST, known: set[str], params: Mapping[str, float]) -> None:
    if type(node) in _REFUSED:
        raise FormulaError(f"{_REFUSED[type(node)]} ('{ast.unparse(node)}') is not allowed")
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise FormulaError(f"{node.value!r} is not a number")
        try:
            float(node.value)
        except OverflowError:
            raise FormulaError(f"the number {str(node.value)[:20]}... is too large") from None
    elif isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise FormulaError(f"'{node.id}' is a function: call it, {node.id}(...)")
        if node.id not in known:
            raise FormulaError(f"unknown name '{node.id}'; known: {', '.join(sorted(known))}")
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub | ast.UAdd):
            raise FormulaError(f"operator in '{ast.unparse(node)}' is not allowed")
        _check(node.operand, known, params)
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            raise FormulaError(f"operator in '{ast.unparse(node)}' is not allowed; "
                               "use + - * / **")
        _check(node.left, known, params)
        _check(node.right, known, params)
        if isinstance(node.op, ast.Pow):
            _check_exponent(node.right, params)
    elif isinstance(node, ast.Call):
        _check_call(node, known, params)
    else:
        raise FormulaError(f"'{ast.unparse(node)}' is not allowed (numbers, names, "
                           "+ - * / **, and calls of " + ", ".join(FUNCTIONS) + ")")


def _check_call(node: ast.Call, known: set[str], params: Mapping[str, float]) -> None:
    if not isinstance(node.func, ast.Name):
        _check(node.func, known, params)  # names what is refused (attribute, lambda, ...)
        raise FormulaError(f"'{ast.unparse(node)}' is not allowed: only calls of "
                           + ", ".join(FUNCTIONS))
    name = node.func.id
    if name not in FUNCTIONS:
        raise FormulaError(f"unknown function '{name}'; functions: {', '.join(FUNCTIONS)}")
    if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        raise FormulaError(f"{name}(...) takes positional arguments only")
    low, high = FUNCTIONS[name][:2]
    if not low <= len(node.args) <= high:
        wanted = str(low) if low == high else f"{low} to {high}"
        raise FormulaError(f"{name}(...) takes {wanted} argument(s), got {len(node.args)}")
    for arg in node.args:
        _check(arg, known, params)


def _check_exponent(node: ast.expr, params: Mapping[str, float]) -> None:
    """An exponent is a constant expression of numbers and parameters, |value| <= MAX."""
    for part in ast.walk(node):
        if isinstance(part, ast.Name) and part.id not in params:
            raise FormulaError(f"the exponent '{ast.unparse(node)}' depends on '{part.id}'; "
                               "an exponent must be a constant (numbers and params); "
                               "write exp(... * log(...)) instead")
        if isinstance(part, ast.Call):
            raise FormulaError(f"the exponent '{ast.unparse(node)}' must be a constant "
                               "(numbers and params), not a function call")
    with np.errstate(all="ignore"):
        value = float(_evaluate(node, params))
    if not abs(value) <= MAX_EXPONENT:  # also refuses NaN
        raise FormulaError(f"the exponent '{ast.unparse(node)}' is {value:g}; at most "
                           f"{MAX_EXPONENT:g} in magnitude")


def _evaluate(node: ast.AST, values: Mapping[str, np.ndarray | float]):
    if isinstance(node, ast.Constant):
        return np.float64(node.value)
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, values)
        return np.negative(operand) if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_evaluate(node.left, values),
                                      _evaluate(node.right, values))
    # A call: the only node left after _check.
    return FUNCTIONS[node.func.id][2](*(_evaluate(a, values) for a in node.args))
