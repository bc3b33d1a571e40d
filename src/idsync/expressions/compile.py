"""Compile an expression tree once into nested Python closures.

Each node becomes ``fn(context, env)`` where ``env`` maps ``$variables`` to values. Evaluating
a compiled expression is then plain function calls: no tree walk, no dispatch on node types.
Calls on literals of pure functions are folded at compile time.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from idsync.expressions import ast
from idsync.expressions.context import EvaluationContext
from idsync.expressions.errors import (
    ExpressionError,
    ExpressionRuntimeError,
    ExpressionValidationError,
)
from idsync.expressions.functions import REGISTRY, FunctionSpec
from idsync.expressions.grammar import KEYWORDS, parse
from idsync.expressions.operators import OPERATORS, negate
from idsync.expressions.values import kind_of

Env = dict[str, Any]
Fn = Callable[[Any, Env], Any]

_NO_ENV: Env = {}
_FAILURES = (TypeError, ValueError, OverflowError, ArithmeticError, UnicodeError, LookupError)
_LAMBDAS = frozenset({"Select", "Where", "With"})


class CompiledExpression:
    """A compiled expression: call it with an :class:`EvaluationContext`."""

    __slots__ = ("_fn", "attributes", "source")

    def __init__(self, source: str, attributes: frozenset[str], fn: Fn) -> None:
        self.source = source
        self.attributes = attributes
        self._fn = fn

    def __call__(self, context: EvaluationContext) -> Any:
        return self._fn(context, _NO_ENV)

    def __repr__(self) -> str:
        return f"CompiledExpression({self.source!r})"

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # Closures do not pickle; the source does. Worker processes recompile it once.
        return compile_expression, (self.source,)


def compile_expression(source: str) -> CompiledExpression:
    """Parse, validate and compile ``source``.

    Raises ExpressionSyntaxError or ExpressionValidationError (unknown function, variable or
    name, wrong argument count) before anything is evaluated.
    """
    if not isinstance(source, str):
        raise TypeError("an expression is a string")
    tree = parse(source)
    compiler = _Compiler(source)
    try:
        fn = compiler.node(tree, frozenset())
    except RecursionError:  # pragma: no cover - the parser's nesting limit comes first
        raise ExpressionValidationError("expression too deeply nested", source, 0) from None
    return CompiledExpression(source, frozenset(compiler.attributes), fn)


def validate_expression(source: str) -> None:
    """Compile and discard: refuse a rule whose expression would fail to compile."""
    compile_expression(source)


class _Constant:
    """Marks a compiled node whose value is known at compile time."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _const_fn(value: Any) -> Fn:
    def constant(context: Any, env: Env) -> Any:
        return value

    constant.constant = _Constant(value)  # type: ignore[attr-defined]
    return constant


def _constant_of(fn: Fn) -> _Constant | None:
    return getattr(fn, "constant", None)


class _Compiler:
    def __init__(self, source: str) -> None:
        self.source = source
        self.attributes: set[str] = set()

    def invalid(self, message: str, node: ast.Node) -> ExpressionValidationError:
        return ExpressionValidationError(message, self.source, node.offset)

    def node(self, node: ast.Node, scope: frozenset[str]) -> Fn:
        if isinstance(node, ast.Literal):
            return _const_fn(node.value)
        if isinstance(node, ast.Attribute):
            return self.attribute(node)
        if isinstance(node, ast.Parameter):
            return self.parameter(node)
        if isinstance(node, ast.Variable):
            return self.variable(node, scope)
        if isinstance(node, ast.Negate):
            return self.negate(node, scope)
        if isinstance(node, ast.BinaryOp):
            return self.binary(node, scope)
        if isinstance(node, ast.Call):
            return self.call(node, scope)
        raise AssertionError(f"unknown node {node!r}")  # pragma: no cover

    def attribute(self, node: ast.Attribute) -> Fn:
        name = node.name
        self.attributes.add(name)

        def attribute(context: Any, env: Env) -> Any:
            return context.attribute(name)

        return attribute

    def parameter(self, node: ast.Parameter) -> Fn:
        name, source, offset = node.name, self.source, node.offset

        def parameter(context: Any, env: Env) -> Any:
            try:
                return context.parameter(name)
            except KeyError:
                raise ExpressionRuntimeError(
                    f"unknown parameter %{name}% (column {offset + 1} of {source!r})"
                ) from None

        return parameter

    def variable(self, node: ast.Variable, scope: frozenset[str]) -> Fn:
        name = node.name
        if name not in scope:
            bound = ", ".join(sorted(scope)) or "none here"
            raise self.invalid(
                f"variable {name} is not bound (bound variables: {bound}); variables come from "
                "Select, Where or With",
                node,
            )

        def variable(context: Any, env: Env) -> Any:
            return env[name]

        return variable

    def negate(self, node: ast.Negate, scope: frozenset[str]) -> Fn:
        operand = self.node(node.operand, scope)

        def negated(context: Any, env: Env) -> Any:
            return negate(operand(context, env))

        return self.fold(negated, [operand])

    def binary(self, node: ast.BinaryOp, scope: frozenset[str]) -> Fn:
        # Operators chain left to right at one priority, so the tree is left-deep: walk its
        # spine iteratively (no recursion limit on long chains) and evaluate it in one loop.
        steps: list[tuple[Callable[[Any, Any], Any], ast.Node]] = []
        head: ast.Node = node
        while isinstance(head, ast.BinaryOp):
            steps.append((OPERATORS[head.op], head.right))
            head = head.left
        steps.reverse()
        first = self.node(head, scope)
        ops = [op for op, _ in steps]
        operands = [self.node(right, scope) for _, right in steps]
        if len(steps) == 1:
            apply, right = ops[0], operands[0]

            def binary(context: Any, env: Env) -> Any:
                return apply(first(context, env), right(context, env))

        else:
            pairs = tuple(zip(ops, operands, strict=True))

            def binary(context: Any, env: Env) -> Any:
                value = first(context, env)
                for apply, operand in pairs:
                    value = apply(value, operand(context, env))
                return value

        return self.fold(binary, [first, *operands])

    def fold(self, fn: Fn, parts: list[Fn]) -> Fn:
        if all(_constant_of(p) is not None for p in parts):
            try:
                return _const_fn(fn(None, _NO_ENV))
            except ExpressionError:
                pass  # fails at evaluation time, where the error belongs to an object
        return fn

    def call(self, node: ast.Call, scope: frozenset[str]) -> Fn:
        spec = REGISTRY.get(node.name)
        if node.args is None:  # a bare word that is neither keyword nor call
            raise self.invalid(_unknown_name(node.name), node)
        if spec is None:
            raise self.invalid(_unknown_function(node.name), node)
        count = len(node.args)
        if not spec.min_args <= count <= spec.max_args:
            raise self.invalid(_arity_message(spec, count), node)
        if spec.impl is None:
            return getattr(self, "special_" + node.name)(node, scope)
        self.note_attribute_reads(node)
        args = [self.node(arg, scope) for arg in node.args]
        fn = _call(spec, args)
        if spec.pure and not spec.needs_context:
            return self.fold(fn, args)
        return fn

    def note_attribute_reads(self, node: ast.Call) -> None:
        # ImportedValue("x") and ValueCount("x") read attribute x, even though it is a string.
        if node.name in ("ImportedValue", "ValueCount") and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Literal) and isinstance(arg.value, str):
                self.attributes.add(arg.value)

    # Special forms: they choose which arguments to evaluate.

    def special_IIF(self, node: ast.Call, scope: frozenset[str]) -> Fn:
        cond, then, other = (self.node(a, scope) for a in node.args)

        def iif(context: Any, env: Env) -> Any:
            return then(context, env) if _truth("IIF", cond(context, env)) else other(context, env)

        return iif

    def special_Switch(self, node: ast.Call, scope: frozenset[str]) -> Fn:
        if len(node.args) % 2:
            raise self.invalid(
                f"Switch takes condition/value pairs; {len(node.args)} arguments leave the "
                "last condition without a value",
                node,
            )
        parts = [self.node(a, scope) for a in node.args]
        conditions, values = parts[0::2], parts[1::2]

        def switch(context: Any, env: Env) -> Any:
            # Every condition is evaluated (as the language does); only the chosen value is.
            chosen = -1
            for i, condition in enumerate(conditions):
                if _truth("Switch", condition(context, env)) and chosen < 0:
                    chosen = i
            return None if chosen < 0 else values[chosen](context, env)

        return switch

    def lambda_parts(self, node: ast.Call, scope: frozenset[str]) -> tuple[str, Fn, Fn]:
        var = node.args[0]
        if not isinstance(var, ast.Variable):
            raise self.invalid(
                f"the first argument of {node.name} names a variable, such as $item", var
            )
        source = self.node(node.args[1], scope)
        body = self.node(node.args[2], scope | {var.name})
        return var.name, source, body

    def special_Select(self, node: ast.Call, scope: frozenset[str]) -> Fn:
        name, source, body = self.lambda_parts(node, scope)

        def select(context: Any, env: Env) -> Any:
            values = source(context, env)
            if values is None:
                return None
            inner = dict(env)
            out = []
            for value in values if isinstance(values, list) else [values]:
                inner[name] = value
                result = body(context, inner)
                if result is not None:
                    out.append(result)
            return out or None

        return select

    def special_Where(self, node: ast.Call, scope: frozenset[str]) -> Fn:
        name, source, body = self.lambda_parts(node, scope)

        def where(context: Any, env: Env) -> Any:
            values = source(context, env)
            if values is None:
                return None
            inner = dict(env)
            out = []
            for value in values if isinstance(values, list) else [values]:
                inner[name] = value
                if _truth("Where", body(context, inner)):
                    out.append(value)
            return out or None

        return where

    def special_With(self, node: ast.Call, scope: frozenset[str]) -> Fn:
        name, source, body = self.lambda_parts(node, scope)

        def with_(context: Any, env: Env) -> Any:
            inner = dict(env)
            inner[name] = source(context, env)
            return body(context, inner)

        return with_


def _truth(fn: str, value: Any) -> bool:
    if value is True or value is False:
        return value
    if value is None:
        return False  # NULL is not True
    raise ExpressionRuntimeError(
        f"{fn}: the condition must be a boolean, got {kind_of(value)} {value!r}"
    )


def _call(spec: FunctionSpec, args: list[Fn]) -> Fn:
    """The closure for an ordinary function call, specialised on how it takes its arguments."""
    impl = spec.impl
    assert impl is not None
    name = spec.name
    mapped = tuple(i for i in spec.per_value if i < len(args))

    if spec.needs_context:

        def with_context(context: Any, env: Env) -> Any:
            values = [a(context, env) for a in args]
            try:
                return impl(context, *values)
            except _FAILURES as exc:
                raise ExpressionRuntimeError(f"{name}: {exc}") from None

        return with_context

    if mapped == (0,) and len(args) == 1:
        only = args[0]

        def call1(context: Any, env: Env) -> Any:
            value = only(context, env)
            try:
                if value.__class__ is list:
                    return _per_value(impl, value, (), 0)
                return impl(value)
            except _FAILURES as exc:
                raise ExpressionRuntimeError(f"{name}: {exc}") from None

        return call1

    def call(context: Any, env: Env) -> Any:
        values = [a(context, env) for a in args]
        try:
            for i in mapped:
                if values[i].__class__ is list:
                    _check_single_list(name, values, mapped, i)
                    return _per_value(impl, values[i], values, i)
            return impl(*values)
        except _FAILURES as exc:
            raise ExpressionRuntimeError(f"{name}: {exc}") from None

    return call


def _check_single_list(name: str, values: list[Any], mapped: tuple[int, ...], first: int) -> None:
    for i in mapped:
        if i != first and values[i].__class__ is list:
            raise ExpressionRuntimeError(
                f"{name}: only one argument may be multi-valued (arguments {first + 1} "
                f"and {i + 1} are)"
            )


def _per_value(impl: Callable[..., Any], items: list[Any], values: Any, index: int) -> Any:
    # Apply per value; a NULL result drops that value; no values left is NULL. A function that
    # returns several values per value (Split) contributes them all: the result stays one list.
    out: list[Any] = []
    args = list(values)
    for item in items:
        if values:
            args[index] = item
            result = impl(*args)
        else:
            result = impl(item)
        if result is None:
            continue
        if result.__class__ is list:
            out.extend(result)
        else:
            out.append(result)
    return out or None


def _unknown_function(name: str) -> str:
    suggestion = _suggest(name, REGISTRY)
    return f"unknown function {name}" + (f"; did you mean {suggestion}?" if suggestion else "")


def _unknown_name(name: str) -> str:
    if name in REGISTRY:
        return f"{name} is a function: call it with parentheses, {name}(...)"
    suggestion = _suggest(name, KEYWORDS)
    hint = f"; did you mean {suggestion}?" if suggestion else ""
    return f"unknown name {name}{hint} (attributes are written [{name}], parameters %{name}%)"


def _suggest(name: str, names: Any) -> str | None:
    for candidate in names:  # names are case-sensitive: catch the wrong-case slip first
        if candidate.lower() == name.lower():
            return candidate
    close = difflib.get_close_matches(name, list(names), n=1)
    return close[0] if close else None


def _arity_message(spec: FunctionSpec, count: int) -> str:
    if spec.min_args == spec.max_args:
        wanted = f"{spec.min_args}"
    elif spec.max_args >= 1_000:
        wanted = f"at least {spec.min_args}"
    else:
        wanted = f"{spec.min_args} to {spec.max_args}"
    plural = "" if wanted == "1" else "s"
    return f"{spec.name} takes {wanted} argument{plural}, got {count}"


__all__ = ["CompiledExpression", "compile_expression", "validate_expression"]
