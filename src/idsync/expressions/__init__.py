"""The sync rule expression language: parse once, compile to closures, evaluate many times.

Public API the sync engine codes against::

    compiled = compile_expression('IIF(IsPresent([mail]), [mail], NULL)')
    compiled.attributes          # frozenset({'mail'})
    compiled(DictContext({"mail": "a@b"}))
"""

from __future__ import annotations

from idsync.expressions.compile import CompiledExpression, compile_expression, validate_expression
from idsync.expressions.context import DictContext, EvaluationContext
from idsync.expressions.errors import (
    ErrorFunctionTriggered,
    ExpressionError,
    ExpressionRuntimeError,
    ExpressionSyntaxError,
    ExpressionValidationError,
)
from idsync.expressions.values import AUTHORITATIVE_NULL, IGNORE_THIS_FLOW, Ref

__all__ = [
    "AUTHORITATIVE_NULL",
    "IGNORE_THIS_FLOW",
    "CompiledExpression",
    "DictContext",
    "ErrorFunctionTriggered",
    "EvaluationContext",
    "ExpressionError",
    "ExpressionRuntimeError",
    "ExpressionSyntaxError",
    "ExpressionValidationError",
    "Ref",
    "compile_expression",
    "validate_expression",
]
