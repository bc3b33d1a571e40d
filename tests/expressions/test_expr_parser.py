"""Parsing, compile-time validation and the messages a person reads when a rule is wrong."""

from __future__ import annotations

import contextlib

import pytest
from expr_helpers import evaluate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idsync.expressions import (
    AUTHORITATIVE_NULL,
    IGNORE_THIS_FLOW,
    DictContext,
    ExpressionError,
    ExpressionSyntaxError,
    ExpressionValidationError,
    compile_expression,
    validate_expression,
)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("2+3*4", 20),
        ("2*3+4", 10),
        ("10-2-3", 5),
        ("2*(3+4)", 14),
        ("-2147483648", -2147483648),
        ("-(2+3)", -5),
        ("3 - -2", 5),
        ("&H21C07000", 0x21C07000),
        ("&hff", None),  # hex needs &H; &h is the & operator then a bare word: refused
    ],
)
def test_equal_priority_left_to_right(source: str, expected: int | None) -> None:
    if expected is None:
        with pytest.raises(ExpressionError):
            evaluate(source)
    else:
        assert evaluate(source) == expected


def test_comparison_then_and_are_left_to_right() -> None:
    # (1 < 2) = True, then True && False
    assert evaluate("1 < 2 && False") is False
    assert evaluate('"a" & "b" = "ab"') is True


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("True", True),
        ("False", False),
        ("NULL", None),
        ("CRLF", "\r\n"),
        ("IgnoreThisFlow", IGNORE_THIS_FLOW),
        ("AuthoritativeNull", AUTHORITATIVE_NULL),
        ('"say ""hi"""', 'say "hi"'),
        ('"a\\nb"', "a\\nb"),  # only Replace reads \n
    ],
)
def test_literals(source: str, expected: object) -> None:
    assert evaluate(source) == expected


def test_attributes_and_parameters_with_dots_and_dashes() -> None:
    result = evaluate(
        "[msRTCSIP-OriginatorSid] & %Domain.FQDN%",
        {"msRTCSIP-OriginatorSid": "x@"},
        {"Domain.FQDN": "contoso.com"},
    )
    assert result == "x@contoso.com"


def test_names_are_case_sensitive() -> None:
    assert evaluate("[Mail]", {"mail": "a"}) is None
    with pytest.raises(ExpressionValidationError, match="did you mean LCase"):
        compile_expression('lcase("A")')
    with pytest.raises(ExpressionValidationError, match="did you mean True"):
        compile_expression("IIF(true, 1, 2)")


def test_attributes_read_are_listed() -> None:
    compiled = compile_expression(
        'IIF(IsPresent([a]), Join(ImportedValue("b")), CStr(ValueCount("member")))'
    )
    assert compiled.attributes == frozenset({"a", "b", "member"})
    assert compiled.source.startswith("IIF")


def test_syntax_error_names_line_column_caret_and_expectation() -> None:
    source = 'IIF(IsPresent([mail]),\n    [mail] "x",\n    NULL)'
    with pytest.raises(ExpressionSyntaxError) as raised:
        compile_expression(source)
    error = raised.value
    assert (error.line, error.column) == (2, 12)
    assert error.expected == "',' or ')'"
    text = str(error)
    assert "line 2, column 12" in text
    assert '    [mail] "x",\n' in text
    assert text.endswith("\n" + " " * (2 + 11) + "^")


@pytest.mark.parametrize(
    ("source", "column", "fragment"),
    [
        ("", 1, "empty expression"),
        ("Left([a], 2", 12, "expected ',' or ')'"),
        ("[a] +", 6, "expected a value"),
        ("[unclosed", 1, "unterminated attribute name"),
        ('"unclosed', 1, "unterminated string"),
        ("%P", 1, "unterminated parameter"),
        ("[]", 2, "empty attribute"),
        ("\u201cquoted\u201d", 1, "straight double quotes"),
        ("1.5", 2, "whole numbers"),
        ("[a] | [b]", 5, "unexpected character"),
        ("(1))", 4, "without a matching"),
        ("$", 1, "variable name"),
    ],
)
def test_syntax_errors(source: str, column: int, fragment: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as raised:
        compile_expression(source)
    assert raised.value.column == column
    assert fragment in str(raised.value)


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("Nope(1)", "unknown function Nope"),
        ('Left("a")', "Left takes 2 arguments, got 1"),
        ('Mid("a",1,2,3)', "Mid takes 2 to 3 arguments, got 4"),
        ("Now(1)", "Now takes 0 arguments, got 1"),
        ("Switch(True)", "Switch takes at least 2 arguments"),
        ("Switch(True, 1, False)", "condition/value pairs"),
        ("Select([a], [b], 1)", "names a variable"),
        ("Select($x, [b], $y)", "variable $y is not bound"),
        ("$item", "variable $item is not bound"),
        ("Trim", "Trim is a function"),
        ("contoso", "unknown name contoso"),
    ],
)
def test_validation_errors_at_compile_time(source: str, fragment: str) -> None:
    with pytest.raises(ExpressionValidationError) as raised:
        validate_expression(source)
    assert fragment in str(raised.value)
    assert raised.value.line == 1


def test_validation_error_points_at_the_nested_call() -> None:
    with pytest.raises(ExpressionValidationError) as raised:
        compile_expression('IIF(IsPresent([a]), Lefty([a], 2), "")')
    assert raised.value.column == 21


def test_runtime_failures_are_not_raised_at_compile_time() -> None:
    # Constant folding must not turn a per-object failure into a refused rule.
    compiled = compile_expression('IIF([a] = "x", Error("boom"), CNum("no"))')
    assert compiled is not None


def test_nesting_limit_is_a_syntax_error() -> None:
    with pytest.raises(ExpressionSyntaxError, match="nested more than"):
        compile_expression("Trim(" * 500 + '"a"' + ")" * 500)


def test_long_operator_chain_compiles_and_runs() -> None:
    assert evaluate(" + ".join(["1"] * 5000)) == 5000


LANGUAGE_PIECES = st.sampled_from(
    [
        "[a]",
        "[mv]",
        "%P%",
        '"x"',
        '""',
        "1",
        "0",
        "-",
        "&H1F",
        "(",
        ")",
        ",",
        " ",
        "+",
        "*",
        "&",
        "&&",
        "||",
        "=",
        "<>",
        "<",
        ">=",
        "True",
        "NULL",
        "IgnoreThisFlow",
        "$item",
        "IIF(",
        "Left(",
        "Mid(",
        "Word(",
        "Select($item,",
        "Where($item,",
        "With($item,",
        "Switch(",
        "Item(",
        "Contains(",
        "CNum(",
        "CDate(",
        "DateAdd(",
        "Split(",
        "PadLeft(",
        "Error(",
        "ValueCount(",
        "CRef(",
        "DNComponent(",
        "ReplaceChars(",
        "UTF8",
        "\n",
    ]
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
def test_parser_never_crashes_on_arbitrary_text(source: str) -> None:
    with contextlib.suppress(ExpressionError):
        compile_expression(source)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LANGUAGE_PIECES, max_size=25).map("".join))
def test_compile_and_evaluate_raise_only_expression_errors(source: str) -> None:
    try:
        compiled = compile_expression(source)
    except ExpressionError:
        return
    context = DictContext({"a": "abc", "mv": ["x", "yz"]}, {"P": "p"})
    with contextlib.suppress(ExpressionError):
        compiled(context)


def _call_strategy(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    # A call to a registered function with an argument count its arity accepts.
    from idsync.expressions.functions import REGISTRY

    specs = [s for s in REGISTRY.values() if s.name not in ("Select", "Where", "With", "Switch")]

    @st.composite
    def call(draw: st.DrawFn) -> str:
        spec = draw(st.sampled_from(specs))
        count = draw(st.integers(spec.min_args, min(spec.max_args, spec.min_args + 2)))
        args = [draw(children) for _ in range(count)]
        return f"{spec.name}({','.join(args)})"

    operator = st.sampled_from(["+", "-", "*", "&", "&&", "||", "=", "<>", "<", ">="])
    binary = st.tuples(children, operator, children).map(" ".join)  # "[a]&&HFF" is ambiguous
    select = st.tuples(children).map(lambda t: f"Select($item,[mv],{t[0]} & $item)")
    return st.one_of(call(), binary, select)


ATOMS = st.sampled_from(
    [
        "[a]",
        "[mv]",
        "[n]",
        "[missing]",
        '"x"',
        '""',
        '"a:b"',
        "1",
        "-3",
        "0",
        "&HFF",
        "True",
        "NULL",
        "UTF8",
        "vbTextCompare",
        '"2001-01-01"',
        '"DC"',
        "IgnoreThisFlow",
    ]
)
WELL_FORMED = st.recursive(ATOMS, _call_strategy, max_leaves=12)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(WELL_FORMED)
def test_well_formed_expressions_compile_and_fail_only_cleanly(source: str) -> None:
    compiled = compile_expression(source)  # arities are right by construction
    context = DictContext({"a": "abc", "mv": ["x", "yz", ""], "n": 5})
    with contextlib.suppress(ExpressionError):
        compiled(context)
