"""Expression syntax tree. Every node keeps its offset in the source for error messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Node:
    offset: int


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A string, number, boolean, NULL, CRLF, a sentinel or an enum word."""

    value: Any


@dataclass(frozen=True, slots=True)
class Attribute(Node):
    """``[name]``"""

    name: str


@dataclass(frozen=True, slots=True)
class Parameter(Node):
    """``%Name%`` (dotted names such as ``%Domain.FQDN%`` included)."""

    name: str


@dataclass(frozen=True, slots=True)
class Variable(Node):
    """``$item``: bound by Select, Where and With."""

    name: str


@dataclass(frozen=True, slots=True)
class Negate(Node):
    """Unary minus."""

    operand: Node


@dataclass(frozen=True, slots=True)
class BinaryOp(Node):
    """``left op right``; ``offset`` is the operator's position."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Call(Node):
    """``Name(args...)``; ``offset`` is the name's position."""

    name: str
    args: tuple[Node, ...]
