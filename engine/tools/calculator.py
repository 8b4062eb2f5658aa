"""A calculator for arithmetic, and nothing else.

The expression comes from model output, so it is never passed to ``eval``. Python's
``ast`` parses it and a walker evaluates only numbers and the arithmetic operators;
a name, an attribute, a call, a string or anything else is refused with a reason.
Sizes are bounded so no expression can eat the machine: the text's length, the
exponent of a power, and the size of every intermediate number.
"""

from __future__ import annotations

import ast
import math
import operator
from dataclasses import dataclass

MAX_EXPRESSION_CHARS = 200
MAX_EXPONENT = 1000  # for integer powers; the result must still fit MAX_DIGITS
MAX_DIGITS = 100  # every intermediate integer has at most this many digits

# The talk writes "2 × $2 = $4" and "$9 ÷ 3": accept its symbols.
_SYMBOLS = {"×": "*", "÷": "/", "−": "-", "–": "-", "^": "**", "$": "", "£": "", "€": ""}

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}


class CalculatorError(ValueError):
    """An expression the calculator refuses, with a reason a person (or the model) can read."""


@dataclass(frozen=True)
class CalculatorConfig:
    max_chars: int = MAX_EXPRESSION_CHARS
    max_exponent: int = MAX_EXPONENT
    max_digits: int = MAX_DIGITS


def _check_size(value: float, config: CalculatorConfig) -> int | float:
    if isinstance(value, int):
        if abs(value) >= 10**config.max_digits:
            raise CalculatorError(f"the number has more than {config.max_digits} digits")
    elif not math.isfinite(value):
        raise CalculatorError("the result is too large")
    return value


def _power(base: float, exponent: float, config: CalculatorConfig) -> int | float:
    if abs(exponent) > config.max_exponent:
        raise CalculatorError(f"the exponent {exponent} is larger than {config.max_exponent}")
    if base != 0 and abs(base) != 1:
        # log10 of the result, computed without computing the result
        magnitude = abs(exponent) * math.log10(abs(base))
        if exponent > 0 and magnitude > config.max_digits:
            raise CalculatorError(f"the power has more than {config.max_digits} digits")
    if base == 0 and exponent < 0:
        raise CalculatorError("zero cannot be raised to a negative power")
    result = base**exponent
    if isinstance(result, complex):
        raise CalculatorError("the power of a negative number is not a real number")
    return result


def _evaluate(node: ast.AST, config: CalculatorConfig) -> int | float:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, config)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise CalculatorError(f"{node.value!r} is not a number")
        return _check_size(node.value, config)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand, config))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left = _evaluate(node.left, config)
        right = _evaluate(node.right, config)
        if isinstance(node.op, ast.Pow):
            return _check_size(_power(left, right, config), config)
        if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and right == 0:
            raise CalculatorError("division by zero")
        try:
            return _check_size(_BINARY[type(node.op)](left, right), config)
        except OverflowError:
            raise CalculatorError("the result is too large") from None
    if isinstance(node, (ast.BinOp, ast.UnaryOp)):
        raise CalculatorError(f"the operator {type(node.op).__name__} is not arithmetic")
    if isinstance(node, ast.Name):
        raise CalculatorError(f"names such as {node.id!r} are not allowed: arithmetic only")
    if isinstance(node, ast.Attribute):
        raise CalculatorError("attribute access is not allowed: arithmetic only")
    if isinstance(node, ast.Call):
        raise CalculatorError("function calls are not allowed: arithmetic only")
    raise CalculatorError(f"{type(node).__name__} is not arithmetic")


def normalise(expression: str) -> str:
    """The talk's symbols as Python operators; thousands separators like 1,000 are kept out."""
    for symbol, replacement in _SYMBOLS.items():
        expression = expression.replace(symbol, replacement)
    return expression.strip().rstrip("=").strip()


def calculate(expression: str, config: CalculatorConfig | None = None) -> int | float:
    """Evaluate arithmetic (+ - * / // % ** and parentheses) or raise CalculatorError."""
    config = config or CalculatorConfig()
    if not isinstance(expression, str):
        raise CalculatorError("the expression must be text")
    text = normalise(expression)
    if not text:
        raise CalculatorError("the expression is empty")
    if len(text) > config.max_chars:
        raise CalculatorError(f"the expression is longer than {config.max_chars} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError):
        raise CalculatorError(f"{text!r} is not an arithmetic expression") from None
    except (RecursionError, MemoryError):
        raise CalculatorError("the expression nests too deeply") from None
    try:
        return _evaluate(tree, config)
    except RecursionError:
        raise CalculatorError("the expression nests too deeply") from None
    except OverflowError:
        raise CalculatorError("the result is too large") from None
    except ZeroDivisionError:
        raise CalculatorError("division by zero") from None


def format_number(value: float) -> str:
    """12 significant digits for floats, whole floats written as integers ("3", not "3.0")."""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.12g}"
    return str(value)


def calculator(expression: str) -> str:
    """The tool: the value of an arithmetic expression, as text."""
    return format_number(calculate(expression))
