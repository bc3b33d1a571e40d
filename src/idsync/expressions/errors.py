"""Expression errors: each one says where and what, so an administrator can fix the rule."""

from __future__ import annotations

from idsync.error_codes import ErrorCode
from idsync.errors import IdsyncError


def line_and_column(source: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset`` in ``source``."""
    offset = max(0, min(offset, len(source)))
    line = source.count("\n", 0, offset) + 1
    column = offset - (source.rfind("\n", 0, offset) + 1) + 1
    return line, column


def caret_excerpt(source: str, offset: int) -> str:
    """The offending line of ``source`` with a caret under ``offset``."""
    offset = max(0, min(offset, len(source)))
    start = source.rfind("\n", 0, offset) + 1
    end = source.find("\n", offset)
    if end == -1:
        end = len(source)
    text = source[start:end]
    # Tabs stay tabs under the caret so it lines up in any terminal.
    pad = "".join("\t" if ch == "\t" else " " for ch in source[start:offset])
    return f"  {text}\n  {pad}^"


class ExpressionError(IdsyncError):
    """Base of every error the expression language raises."""


class _Positioned(ExpressionError):
    """An error tied to a place in the expression text."""

    def __init__(self, message: str, source: str | None = None, offset: int | None = None) -> None:
        self.message = message
        self.source = source
        self.offset = offset
        self.line: int | None
        self.column: int | None
        if source is not None and offset is not None:
            self.line, self.column = line_and_column(source, offset)
        else:
            self.line = self.column = None
        super().__init__(self._render())

    def _render(self) -> str:
        if self.source is None or self.offset is None:
            return self.message
        return (
            f"line {self.line}, column {self.column}: {self.message}\n"
            f"{caret_excerpt(self.source, self.offset)}"
        )


class ExpressionSyntaxError(_Positioned):
    """The text is not a well-formed expression. ``.line``, ``.column``, ``.expected``."""

    def __init__(self, message: str, source: str, offset: int, expected: str = "") -> None:
        self.expected = expected
        super().__init__(message, source, offset)

    def _render(self) -> str:
        if self.expected:
            self.message = f"{self.message}; expected {self.expected}"
        return "Syntax error at " + super()._render()


class ExpressionValidationError(_Positioned):
    """Well-formed but refused: an unknown function, variable or name, or a wrong arity."""

    def _render(self) -> str:
        return "Invalid expression at " + super()._render() if self.source else self.message


class ExpressionRuntimeError(ExpressionError):
    """Evaluation failed for this object: a type mismatch, ``Item`` out of range, ..."""


class ErrorFunctionTriggered(ExpressionError):
    """``Error("msg")`` was evaluated; the engine records it on that one object."""

    code = ErrorCode.SYNC_RULE_ERROR

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)
