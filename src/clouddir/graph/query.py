"""OData query options of the admin API: ``$filter`` (eq, ne, startswith, ``any`` on
groupTypes / proxyAddresses, and / or / not), ``$select``, ``$top``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from clouddir.graph.model import GraphError

Predicate = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<punct>[(),:/])|(?P<word>[A-Za-z_][\w.]*)"
                    r"|(?P<num>-?\d+))")


def _bad(message: str) -> GraphError:
    return GraphError(400, "BadRequest", f"Invalid filter clause: {message}")


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise _bad(f"unexpected {text[pos:pos + 10]!r}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _literal(kind: str, raw: str) -> Any:
    if kind == "str":
        return raw[1:-1].replace("''", "'")
    if kind == "num":
        if len(raw) > 19:
            raise _bad(f"number {raw[:20]}... is too large")
        return int(raw)
    if raw in ("true", "false"):
        return raw == "true"
    if raw == "null":
        return None
    raise _bad(f"expected a literal, got {raw!r}")


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return a == b


#: not / parentheses nest at most this deep (the predicate is evaluated recursively).
MAX_DEPTH = 32


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0
        self.depth = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise _bad("unexpected end")
        token = self.tokens[self.pos]
        if expected is not None and token[1].lower() != expected:
            raise _bad(f"expected {expected!r}, got {token[1]!r}")
        self.pos += 1
        return token

    def parse(self) -> Predicate:
        predicate = self.or_expr()
        if self.pos != len(self.tokens):
            raise _bad(f"unexpected {self.peek()!r}")
        return predicate

    def or_expr(self) -> Predicate:
        left = self.and_expr()
        while (self.peek() or "").lower() == "or":
            self.take()
            right = self.and_expr()
            left = (lambda a, b: lambda o: a(o) or b(o))(left, right)
        return left

    def and_expr(self) -> Predicate:
        left = self.unary()
        while (self.peek() or "").lower() == "and":
            self.take()
            right = self.unary()
            left = (lambda a, b: lambda o: a(o) and b(o))(left, right)
        return left

    def unary(self) -> Predicate:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _bad(f"nested deeper than {MAX_DEPTH}")
        try:
            return self._unary()
        finally:
            self.depth -= 1

    def _unary(self) -> Predicate:
        word = (self.peek() or "").lower()
        if word == "not":
            self.take()
            inner = self.unary()
            return lambda o: not inner(o)
        if word == "(":
            self.take()
            inner = self.or_expr()
            self.take(")")
            return inner
        if word in ("startswith", "endswith"):
            self.take()
            self.take("(")
            prop = self.take()[1]
            self.take(",")
            value = _literal(*self.take())
            self.take(")")
            test = str.startswith if word == "startswith" else str.endswith
            return lambda o: isinstance(o.get(prop), str) and test(o[prop].lower(),
                                                                   str(value).lower())
        return self.comparison()

    def comparison(self) -> Predicate:
        prop = self.take()[1]
        if self.peek() == "/":
            # prop/any(c:c eq 'x')
            self.take("/")
            self.take("any")
            self.take("(")
            var = self.take()[1]
            self.take(":")
            self.take(var.lower())
            self.take("eq")
            value = _literal(*self.take())
            self.take(")")
            return lambda o: any(_equal(v, value) for v in (o.get(prop) or []))
        op = self.take()[1].lower()
        value = _literal(*self.take())
        if op == "eq":
            return lambda o: _equal(o.get(prop), value)
        if op == "ne":
            return lambda o: not _equal(o.get(prop), value)
        raise _bad(f"operator {op!r} is not supported")


#: A filter longer than this is refused before parsing (Graph's own query options are short).
MAX_FILTER = 4096


def parse_filter(text: str | None) -> Predicate | None:
    if not text:
        return None
    if len(text) > MAX_FILTER:
        raise _bad(f"longer than {MAX_FILTER} characters")
    try:
        return _Parser(text).parse()
    except RecursionError as exc:
        raise _bad("nested too deeply") from exc


def parse_select(text: str | None) -> list[str] | None:
    if not text:
        return None
    fields = [f.strip() for f in text.split(",") if f.strip()]
    for name in fields:
        if not _PROPERTY.match(name):
            raise GraphError(400, "BadRequest", f"Invalid $select property '{name[:40]}'.")
    return fields


_PROPERTY = re.compile(r"^[A-Za-z_@][\w.@]{0,127}$")


#: Skip tokens are object seqs: store integers (64-bit in PostgreSQL).
_MAX_SEQ = 2**63 - 1


def parse_skiptoken(text: str | None) -> int:
    if not text:
        return 0
    if not text.isascii() or not text.isdigit() or len(text) > 19 or int(text) > _MAX_SEQ:
        raise GraphError(400, "BadRequest", f"Invalid $skiptoken value '{text[:40]}'.")
    return int(text)


def parse_top(text: str | None, default: int = 100, most: int = 999) -> int:
    if text is None:
        return default
    try:
        if not text.strip().lstrip("+-").isdigit() or len(text) > 10:
            raise ValueError(text)
        top = int(text)
    except ValueError as exc:
        raise GraphError(400, "BadRequest", f"Invalid $top value '{text[:40]}'.") from exc
    if top < 1 or top > most:
        raise GraphError(400, "BadRequest", f"Invalid page size specified: '{top}'. Must be "
                                            f"between 1 and {most} inclusive.")
    return top
