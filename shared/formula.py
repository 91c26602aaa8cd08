"""Formulas of derived metrics, parsed safely: numbers, metric keys, + − × ÷ and parentheses.

A tokenizer and a recursive-descent parser build a small AST; evaluation is over Decimal and
never calls `eval`. `orders / uv` is a ratio whose numerator and denominator are reported on
their own, because a derived value over a period is the formula applied to the period's sums.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation

MAX_FORMULA_LENGTH = 500
MAX_DEPTH = 40

# Division and products keep 28 significant digits whatever the caller's thread context is.
DECIMAL_CONTEXT = Context(prec=28)

_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d+)?|\.\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[-+*/()×÷−]))"
)
_OPERATOR_ALIASES = {"×": "*", "÷": "/", "−": "-"}


class FormulaError(ValueError):
    """A formula that cannot be accepted; `code` is the stable problem code."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Number:
    value: Decimal


@dataclass(frozen=True)
class Ref:
    key: str


@dataclass(frozen=True)
class Negate:
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str  # one of + - * /
    left: Node
    right: Node


Node = Number | Ref | Negate | Binary


@dataclass(frozen=True)
class Token:
    kind: str  # number | name | op | end
    text: str
    position: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    stripped_end = len(text.rstrip())
    while position < stripped_end:
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise FormulaError("invalid_formula", f"Unexpected character at position {position + 1}.")
        kind = match.lastgroup or "op"
        value = match.group(kind)
        if kind == "op":
            value = _OPERATOR_ALIASES.get(value, value)
        tokens.append(Token(kind, value, match.start(kind)))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expression(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FormulaError("invalid_formula", "The formula is nested too deeply.")
        node = self.term()
        while self.current.kind == "op" and self.current.text in "+-":
            op = self.advance().text
            node = Binary(op, node, self.term())
        self.depth -= 1
        return node

    def term(self) -> Node:
        node = self.factor()
        while self.current.kind == "op" and self.current.text in "*/":
            op = self.advance().text
            node = Binary(op, node, self.factor())
        return node

    def factor(self) -> Node:
        token = self.current
        if token.kind == "op" and token.text in "+-":
            self.advance()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise FormulaError("invalid_formula", "The formula is nested too deeply.")
            operand = self.factor()
            self.depth -= 1
            return Negate(operand) if token.text == "-" else operand
        return self.primary()

    def primary(self) -> Node:
        token = self.advance()
        if token.kind == "number":
            return Number(Decimal(token.text))
        if token.kind == "name":
            return Ref(token.text)
        if token.kind == "op" and token.text == "(":
            node = self.expression()
            closing = self.advance()
            if closing.kind != "op" or closing.text != ")":
                raise FormulaError("invalid_formula", f"Expected ')' at position {closing.position + 1}.")
            return node
        if token.kind == "end":
            raise FormulaError("invalid_formula", "The formula ends too early.")
        raise FormulaError("invalid_formula", f"Unexpected '{token.text}' at position {token.position + 1}.")


def parse(text: str) -> Node:
    """The AST of `text`; raises FormulaError(code="invalid_formula") on any syntax problem."""
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("invalid_formula", "The formula is empty.")
    if len(text) > MAX_FORMULA_LENGTH:
        raise FormulaError("invalid_formula", f"The formula is longer than {MAX_FORMULA_LENGTH} characters.")
    parser = _Parser(tokenize(text))
    node = parser.expression()
    if parser.current.kind != "end":
        token = parser.current
        raise FormulaError("invalid_formula", f"Unexpected '{token.text}' at position {token.position + 1}.")
    return node


def references(node: Node) -> set[str]:
    """The metric keys a formula reads."""
    if isinstance(node, Ref):
        return {node.key}
    if isinstance(node, Negate):
        return references(node.operand)
    if isinstance(node, Binary):
        return references(node.left) | references(node.right)
    return set()


def evaluate(node: Node, values: Mapping[str, Decimal | None]) -> Decimal | None:
    """The formula's value; None when an input is None or a division by zero occurs."""
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Ref):
        return values[node.key]
    if isinstance(node, Negate):
        operand = evaluate(node.operand, values)
        return None if operand is None else DECIMAL_CONTEXT.minus(operand)
    left = evaluate(node.left, values)
    right = evaluate(node.right, values)
    if left is None or right is None:
        return None
    try:
        if node.op == "+":
            return DECIMAL_CONTEXT.add(left, right)
        if node.op == "-":
            return DECIMAL_CONTEXT.subtract(left, right)
        if node.op == "*":
            return DECIMAL_CONTEXT.multiply(left, right)
        if right == 0:
            return None
        return DECIMAL_CONTEXT.divide(left, right)
    except InvalidOperation:
        return None


def ratio_parts(node: Node) -> tuple[Node, Node] | None:
    """(numerator, denominator) when the formula's top level is a division, else None."""
    if isinstance(node, Binary) and node.op == "/":
        return node.left, node.right
    return None


def to_text(node: Node) -> str:
    """A canonical, fully parenthesised rendering (for logs and error details)."""
    if isinstance(node, Number):
        return str(node.value)
    if isinstance(node, Ref):
        return node.key
    if isinstance(node, Negate):
        return f"-({to_text(node.operand)})"
    return f"({to_text(node.left)} {node.op} {to_text(node.right)})"


def find_cycle(dependencies: Mapping[str, set[str]]) -> list[str] | None:
    """A dependency cycle among definitions (`key → keys its formula reads`), as a path, or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(key: str) -> list[str] | None:
        state[key] = 1
        path.append(key)
        for child in sorted(dependencies.get(key, ())):
            if state.get(child) == 1:
                return [*path[path.index(child) :], child]
            if child not in state and (cycle := visit(child)) is not None:
                return cycle
        path.pop()
        state[key] = 2
        return None

    for key in sorted(dependencies):
        if key not in state and (cycle := visit(key)) is not None:
            return cycle
    return None


def validate(text: str, known: Callable[[str], bool], dependencies: Mapping[str, set[str]], key: str) -> Node:
    """Parses `text` as the formula of `key`: unknown metric keys and cycles are refused."""
    node = parse(text)
    unknown = sorted(k for k in references(node) if not known(k))
    if unknown:
        raise FormulaError(
            "unknown_metric_in_formula", f"The formula reads unknown metric(s): {', '.join(unknown)}."
        )
    graph = {k: set(v) for k, v in dependencies.items()}
    graph[key] = references(node)
    cycle = find_cycle(graph)
    if cycle is not None:
        raise FormulaError("formula_cycle", f"The formula makes a cycle: {' → '.join(cycle)}.")
    return node
