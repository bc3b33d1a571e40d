"""Tokenizer and parser: expression text to an :mod:`~idsync.expressions.ast` tree.

A hand-written Pratt parser. The language gives every binary operator the same priority and
evaluates left to right (``2+3*4`` is 20), so the binding-power table collapses to one level;
writing it by hand keeps exact offsets for every error and says precisely what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass

from idsync.expressions import ast
from idsync.expressions.errors import ExpressionSyntaxError
from idsync.expressions.values import (
    AUTHORITATIVE_NULL,
    ENUM_WORDS,
    IGNORE_THIS_FLOW,
    EnumWord,
)

BINARY_OPERATORS = frozenset({"<", "<=", "<>", "=", ">", ">=", "+", "-", "*", "&", "&&", "||"})

# Bare words that stand for a value. Case-sensitive, as the language's names are.
KEYWORDS: dict[str, object] = {
    "True": True,
    "False": False,
    "NULL": None,
    "CRLF": "\r\n",
    "IgnoreThisFlow": IGNORE_THIS_FLOW,
    "AuthoritativeNull": AUTHORITATIVE_NULL,
}
KEYWORDS.update({word: EnumWord(word) for word in ENUM_WORDS})

# Deep enough for any real rule, shallow enough to stay far from Python's recursion limit.
MAX_NESTING = 100

_CURLY_QUOTES = "\u201c\u201d\u201e\u2018\u2019"
_DIGITS = "0123456789"
_HEX_DIGITS = "0123456789abcdefABCDEF"
# Numbers are 64-bit in the language; bounding them also bounds int() parsing time.
_NUMBER_LIMIT = 1 << 64
_EXPECTED_VALUE = (
    "a value: [attribute], %parameter%, \"string\", number, function call, $variable or '('"
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # attr param var string number name op ( ) , end
    text: str
    offset: int
    value: object = None


def tokenize(source: str) -> list[Token]:
    """Split ``source`` into tokens; raises ExpressionSyntaxError on text no token matches."""
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch in " \t\r\n":
            i += 1
        elif ch == "[":
            end = _closing(source, i, "]", "attribute name", "]")
            tokens.append(Token("attr", source[i : end + 1], i, source[i + 1 : end]))
            i = end + 1
        elif ch == "%":
            end = _closing(source, i, "%", "parameter name", "%")
            tokens.append(Token("param", source[i : end + 1], i, source[i + 1 : end]))
            i = end + 1
        elif ch == '"':
            i = _string(source, i, tokens)
        elif ch in _CURLY_QUOTES:
            raise ExpressionSyntaxError(
                'typographic quote; strings use straight double quotes "..."',
                source,
                i,
                expected='"',
            )
        elif ch == "$":
            j = _identifier_end(source, i + 1)
            if j == i + 1:
                raise ExpressionSyntaxError(
                    "'$' must start a variable name such as $item", source, i, "variable name"
                )
            tokens.append(Token("var", source[i:j], i, source[i:j]))
            i = j
        elif ch in _DIGITS:
            j = i
            while j < n and source[j] in _DIGITS:
                j += 1
            if j < n and (source[j].isalpha() or source[j] == "_" or source[j] == "."):
                raise ExpressionSyntaxError(
                    "malformed number (whole numbers only, or &H hexadecimal)", source, j, "digit"
                )
            tokens.append(Token("number", source[i:j], i, _number(source, i, j, 10)))
            i = j
        elif source.startswith("&H", i) and i + 2 < n and source[i + 2] in _HEX_DIGITS:
            j = i + 2
            while j < n and source[j] in _HEX_DIGITS:
                j += 1
            if j < n and (source[j].isalnum() or source[j] == "_"):
                raise ExpressionSyntaxError("malformed hexadecimal number", source, j, "hex digit")
            tokens.append(Token("number", source[i:j], i, _number(source, i, j, 16)))
            i = j
        elif ch.isalpha() or ch == "_":
            j = _identifier_end(source, i)
            tokens.append(Token("name", source[i:j], i, source[i:j]))
            i = j
        elif ch in "(),":
            tokens.append(Token(ch, ch, i))
            i += 1
        else:
            op = source[i : i + 2] if source[i : i + 2] in BINARY_OPERATORS else ch
            if op not in BINARY_OPERATORS:
                raise ExpressionSyntaxError(
                    f"unexpected character {ch!r}", source, i, expected=_EXPECTED_VALUE
                )
            tokens.append(Token("op", op, i))
            i += len(op)
    tokens.append(Token("end", "", n))
    return tokens


def _number(source: str, start: int, end: int, base: int) -> int:
    digits = source[start:end] if base == 10 else source[start + 2 : end]
    if len(digits.lstrip("0")) > 20 or int(digits, base) >= _NUMBER_LIMIT:
        raise ExpressionSyntaxError(
            "number out of range (numbers are 64-bit)", source, start, "a smaller number"
        )
    return int(digits, base)


def _identifier_end(source: str, i: int) -> int:
    while i < len(source) and (source[i].isalnum() or source[i] == "_"):
        i += 1
    return i


def _closing(source: str, start: int, close: str, what: str, expected: str) -> int:
    end = source.find(close, start + 1)
    newline = source.find("\n", start + 1)
    if end == -1 or (newline != -1 and newline < end):
        raise ExpressionSyntaxError(f"unterminated {what}", source, start, expected=expected)
    if end == start + 1:
        raise ExpressionSyntaxError(f"empty {what}", source, start + 1, expected=what)
    return end


def _string(source: str, start: int, tokens: list[Token]) -> int:
    # VBA escapes a double quote inside a string by doubling it.
    parts: list[str] = []
    i = start + 1
    while True:
        end = source.find('"', i)
        if end == -1:
            raise ExpressionSyntaxError("unterminated string", source, start, expected='closing "')
        parts.append(source[i:end])
        if source.startswith('""', end):
            parts.append('"')
            i = end + 2
            continue
        tokens.append(Token("string", source[start : end + 1], start, "".join(parts)))
        return end + 1


class Parser:
    """``expr := unary (op unary)*`` left-assoc; ``unary := '-' unary | primary``."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.pos = 0
        self.depth = 0

    def parse(self) -> ast.Node:
        if self.tokens[0].kind == "end":
            raise ExpressionSyntaxError("empty expression", self.source, 0, _EXPECTED_VALUE)
        node = self.expression()
        token = self.peek()
        if token.kind != "end":
            what = "')' without a matching '('" if token.kind == ")" else _describe(token)
            raise ExpressionSyntaxError(
                f"unexpected {what}", self.source, token.offset, expected="an operator or the end"
            )
        return node

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expression(self) -> ast.Node:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ExpressionSyntaxError(
                f"expression nested more than {MAX_NESTING} levels deep",
                self.source,
                self.peek().offset,
                expected="a shallower expression",
            )
        left = self.unary()
        while self.peek().kind == "op":
            op = self.advance()
            right = self.unary()
            left = ast.BinaryOp(op.offset, op.text, left, right)
        self.depth -= 1
        return left

    def unary(self) -> ast.Node:
        token = self.peek()
        if token.kind == "op" and token.text == "-":
            self.advance()
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise ExpressionSyntaxError(
                    "too many unary minus signs", self.source, token.offset, "a value"
                )
            operand = self.unary()
            self.depth -= 1
            if isinstance(operand, ast.Literal) and type(operand.value) is int:
                return ast.Literal(token.offset, -operand.value)
            return ast.Negate(token.offset, operand)
        return self.primary()

    def primary(self) -> ast.Node:
        token = self.advance()
        kind = token.kind
        if kind == "string" or kind == "number":
            return ast.Literal(token.offset, token.value)
        if kind == "attr":
            return ast.Attribute(token.offset, str(token.value))
        if kind == "param":
            return ast.Parameter(token.offset, str(token.value))
        if kind == "var":
            return ast.Variable(token.offset, str(token.value))
        if kind == "(":
            node = self.expression()
            self.expect(
                ")",
                "')' to close the '(' at column "
                f"{token.offset - self.source.rfind(chr(10), 0, token.offset)}",
            )
            return node
        if kind == "name":
            if self.peek().kind == "(":
                return self.call(token)
            if token.text in KEYWORDS:
                return ast.Literal(token.offset, KEYWORDS[token.text])
            # Leave the verdict on unknown bare words to validation, which can suggest names.
            return ast.Call(token.offset, token.text, None)  # type: ignore[arg-type]
        raise ExpressionSyntaxError(
            f"unexpected {_describe(token)}", self.source, token.offset, expected=_EXPECTED_VALUE
        )

    def call(self, name: Token) -> ast.Node:
        self.advance()  # (
        args: list[ast.Node] = []
        if self.peek().kind == ")":
            self.advance()
            return ast.Call(name.offset, name.text, ())
        while True:
            args.append(self.expression())
            token = self.advance()
            if token.kind == ")":
                return ast.Call(name.offset, name.text, tuple(args))
            if token.kind != ",":
                raise ExpressionSyntaxError(
                    f"unexpected {_describe(token)} in the arguments of {name.text}",
                    self.source,
                    token.offset,
                    expected="',' or ')'",
                )

    def expect(self, kind: str, expected: str) -> Token:
        token = self.advance()
        if token.kind != kind:
            raise ExpressionSyntaxError(
                f"unexpected {_describe(token)}", self.source, token.offset, expected=expected
            )
        return token


def _describe(token: Token) -> str:
    if token.kind == "end":
        return "end of expression"
    return repr(token.text)


def parse(source: str) -> ast.Node:
    """Parse ``source``; raises ExpressionSyntaxError with line, column and what was expected."""
    return Parser(source).parse()
