"""Function behaviour: documented edges (as properties), strict types, per-value application."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from expr_helpers import evaluate
from hypothesis import given, settings
from hypothesis import strategies as st

from idsync.expressions import (
    IGNORE_THIS_FLOW,
    DictContext,
    ErrorFunctionTriggered,
    ExpressionRuntimeError,
    Ref,
    compile_expression,
)
from idsync.expressions.functions import REGISTRY

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
COUNTS = st.integers(-50, 50)
FAST = settings(max_examples=200, deadline=None)


def call(name: str, *args: Any) -> Any:
    """Evaluate ``name`` on attribute arguments, so no literal escaping is involved."""
    attrs = {f"a{i}": value for i, value in enumerate(args)}
    placeholders = ",".join(f"[a{i}]" if args[i] is not None else "NULL" for i in range(len(args)))
    return compile_expression(f"{name}({placeholders})")(DictContext(attrs))


# Left / Right: n=0 -> "", n<0 -> s, null -> "", n>len -> s


@FAST
@given(TEXT, COUNTS)
def test_left_edges(s: str, n: int) -> None:
    result = call("Left", s, n)
    if n == 0:
        assert result == ""
    elif n < 0 or n > len(s):
        assert result == s
    else:
        assert result == s[:n]
    assert call("Left", None, n) == ""


@FAST
@given(TEXT, COUNTS)
def test_right_edges(s: str, n: int) -> None:
    result = call("Right", s, n)
    if n == 0:
        assert result == ""
    elif n < 0 or n > len(s):
        assert result == s
    else:
        assert result == s[len(s) - n :]
    assert call("Right", None, n) == ""


# Mid: n=0 -> "", n<0 -> s, start>len or start<=0 -> s, null -> "", clipped at the end


@FAST
@given(TEXT, COUNTS, COUNTS)
def test_mid_edges(s: str, start: int, n: int) -> None:
    result = call("Mid", s, start, n)
    if n == 0:
        assert result == ""
    elif n < 0 or start <= 0 or start > len(s):
        assert result == s
    else:
        assert result == s[start - 1 : start - 1 + n]
        assert len(result) == min(n, len(s) - start + 1)
    assert call("Mid", None, start, n) == ""


# PadLeft / PadRight: len <= length -> s, null -> "", padChar not null


@FAST
@given(TEXT, COUNTS, st.characters(blacklist_categories=("Cs",)))
def test_pad_edges(s: str, width: int, pad: str) -> None:
    left, right = call("PadLeft", s, width, pad), call("PadRight", s, width, pad)
    if width <= len(s):
        assert left == s and right == s
    else:
        assert left == pad * (width - len(s)) + s
        assert right == s + pad * (width - len(s))
    assert call("PadLeft", None, width, pad) == ""
    assert call("PadRight", None, width, pad) == ""


def test_pad_char_must_not_be_null() -> None:
    with pytest.raises(ExpressionRuntimeError, match="must not be NULL"):
        evaluate('PadLeft("a", 5, NULL)')


# Word: n<1 or null -> "", too few words -> ""


@FAST
@given(st.lists(st.text(alphabet="abcXYZ", min_size=1, max_size=5), max_size=6), COUNTS)
def test_word_edges(words: list[str], n: int) -> None:
    s = " , ".join(words)
    result = call("Word", s, n, " ,")
    if n < 1 or n > len(words):
        assert result == ""
    else:
        assert result == words[n - 1]
    assert call("Word", None, n, " ,") == ""


def test_left_of_multi_valued_applies_per_value() -> None:
    assert evaluate("Left([mv],2)", {"mv": ["abc", "defg"]}) == ["ab", "de"]


def test_null_result_drops_the_value() -> None:
    # DNComponent of a too-short DN is NULL: that value is dropped, not kept as NULL.
    refs = [Ref("cn=a,ou=b"), Ref("cn=c")]
    assert evaluate("DNComponent([mv],2)", {"mv": refs}) == ["b"]
    assert evaluate("DNComponent([mv],5)", {"mv": refs}) is None


@pytest.mark.parametrize(
    ("source", "attributes", "fragment"),
    [
        ("Left(5, 1)", {}, "Left: argument must be a string, got num"),
        ('Left("abc", "1")', {}, "length must be a number, got str"),
        ('"a" = 1', {}, "type mismatch: str 'a' = num 1"),
        ('[n] + "1"', {"n": 1}, "type mismatch"),
        ("IIF(1, 2, 3)", {}, "condition must be a boolean"),
        ("DNComponent([dn],1)", {"dn": "cn=a"}, "wrap it in CRef"),
        ("Item([mv],3)", {"mv": ["a", "b"]}, "index 3 is out of range (1..2)"),
        ('CNum("12a")', {}, "is not a number"),
        ('CDate("yesterday")', {}, "is not a date"),
        ('ConvertFromBase64("abc", ASCII)', {}, "ConvertFromBase64"),
        ('Split("a,b", ",,")', {}, "one character"),
        ('ReplaceChars("a", "ab:c")', {}, "one source character"),
        ('DateAdd("x", 1, Now())', {}, "interval must be one of"),
        ("[mv] & [mv]", {"mv": ["a", "b"]}, "both sides are multi-valued"),
        ('Contains([mv], "a", vbTextCompare)', {"mv": ["a"]}, "CaseSensitive, CaseInsensitive"),
        ('ConvertFromBase64("SGk=", UTF16)', {}, "unknown name"),
        ("%Missing%", {}, "unknown parameter %Missing%"),
        ('PadLeft("a", 99999999999, "0")', {}, "over the"),
        ('[b] = "x"', {"b": b"x"}, "type mismatch"),
    ],
)
def test_type_mismatches_are_errors(source: str, attributes: dict[str, Any], fragment: str) -> None:
    with pytest.raises(Exception) as raised:
        evaluate(source, attributes)
    assert fragment in str(raised.value)
    assert isinstance(raised.value, (ExpressionRuntimeError, Exception))
    assert raised.value.__class__.__module__.startswith("idsync.expressions")


MEMBER_LIMIT = (
    'IIF(ValueCount("member")> 50000,Error("Maximum Group member count exceeded"),IgnoreThisFlow)'
)


class CountingContext(DictContext):
    """Answers value_count from a number, as the engine does, and refuses to load members."""

    def __init__(self, members: int) -> None:
        super().__init__({})
        self.members = members

    def value_count(self, name: str) -> int:
        assert name == "member"
        return self.members

    def attribute(self, name: str) -> Any:
        raise AssertionError("the member limit must not load the member values")


def test_member_limit_over_50000_fails_the_object() -> None:
    compiled = compile_expression(MEMBER_LIMIT)
    assert compiled.attributes == frozenset({"member"})
    with pytest.raises(ErrorFunctionTriggered) as raised:
        compiled(CountingContext(50001))
    assert raised.value.message == "Maximum Group member count exceeded"
    assert raised.value.code == "sync-rule-error-function-triggered"


def test_member_limit_at_50000_ignores_the_flow() -> None:
    assert compile_expression(MEMBER_LIMIT)(CountingContext(50000)) is IGNORE_THIS_FLOW


def test_member_limit_raised_to_250000_as_the_reference_describes() -> None:
    raised_limit = MEMBER_LIMIT.replace("50000", "250000")
    assert compile_expression(raised_limit)(CountingContext(250000)) is IGNORE_THIS_FLOW
    with pytest.raises(ErrorFunctionTriggered):
        compile_expression(raised_limit)(CountingContext(250001))


def test_dict_context_value_count_counts_values() -> None:
    assert evaluate('ValueCount("member")', {"member": ["a", "b", "c"]}) == 3
    assert evaluate('ValueCount("member")', {"member": "a"}) == 1
    assert evaluate('ValueCount("member")', {}) == 0


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("CBool(0)", False),
        ("CBool(-1)", True),
        ('CBool("True")', True),
        ('CNum(" -42 ")', -42),
        ("CStr(True)", "True"),
        ("CStr(12)", "12"),
        (
            'CGuid("{12345678-1234-5678-9abc-def012345678}") = '
            'CGuid("12345678-1234-5678-9abc-def012345678")',
            True,
        ),
        (
            'StringFromGuid(CGuid("12345678-1234-5678-9ABC-def012345678"))',
            "12345678-1234-5678-9abc-def012345678",
        ),
        ('ConvertFromBase64(ConvertToBase64("Räksmörgås ✓"))', "Räksmörgås ✓"),
        ('ConvertFromUTF8Hex(ConvertToUTF8Hex("Räksmörgås"))', "Räksmörgås"),
        ('DateAdd("yyyy", 1, CDate("2020-02-29"))', dt.datetime(2021, 2, 28, tzinfo=dt.UTC)),
        ('DateAdd("q", 1, CDate("2020-01-31"))', dt.datetime(2020, 4, 30, tzinfo=dt.UTC)),
        ('DateAdd("ww", 2, CDate("2020-01-01"))', dt.datetime(2020, 1, 15, tzinfo=dt.UTC)),
        (
            'DateAdd("n", -90, CDate("2020-01-01"))',
            dt.datetime(2019, 12, 31, 22, 30, tzinfo=dt.UTC),
        ),
        ('CDate("20140905081453.0Z")', dt.datetime(2014, 9, 5, 8, 14, 53, tzinfo=dt.UTC)),
        ('CDate("2020-01-01T10:00:00+02:00")', dt.datetime(2020, 1, 1, 8, tzinfo=dt.UTC)),
        (
            'FormatDateTime(CDate("2020-03-04 05:06:07"),"dd/MM/yy h:mm tt \'at\' ddd")',
            "04/03/20 5:06 AM at Wed",
        ),
        ('IsDate("2020-01-01")', True),
        ('IsDate("nope")', False),
        ('IsNumeric("&HFF")', True),
        ('IsNumeric("1e5")', False),
        ("IsString(1)", False),
        ('IsEmpty("")', True),
        ("IsEmpty(NULL)", False),
        ("IsPresent(NULL)", False),
        ("IsBitSet(&HF, &H10)", False),
        ("BitOr(&H1, &H4)", 5),
        ("CBool(BitAnd(-2147483648, -2147483648))", True),
        ('EscapeDNComponent("cn= #lead,trail ")', "cn=\\ #lead\\,trail\\ "),
        ('DNComponent(CRef("cn=a\\,b,dc=x"),1)', "a\\,b"),
        ('InStr("ABC","b",1,vbTextCompare)', 2),
        ('InStr("ABC","b")', 0),
        ('InStrRev("abcabc","abc",5)', 1),
        ('Replace("a\tb", "\\t", "-")', "a-b"),
        ('ReplaceChars("a-b c", " - : , c : C ")', "ab C"),
        ('PCase("hello  wORLD")', "Hello  World"),
        ('Contains(Split("x,SMTP:y",","), "smtp:", CaseInsensitive)', 2),
        ('Join(Split("a;b;c", ";", 2), "|")', "a|b;c"),
        ('"a" & NULL', "a"),
        ("NULL & NULL", None),
        ("1 + NULL", None),
        ("NULL = NULL", True),
        ('NULL <> "a"', True),
        ('NULL < "a"', False),
        ('ItemOrNull(Split("a",","), 2)', None),
        ("Count(NULL)", 0),
        ('Select($item, Split("1,2,3", ","), IIF($item = "2", NULL, $item & "!"))', ["1!", "3!"]),
        ('With($x, "abc", $x & $x)', "abcabc"),
        ('Where($item, Split("a,bb,ccc", ","), Len($item) > 1)', ["bb", "ccc"]),
    ],
)
def test_function_behaviour(source: str, expected: Any) -> None:
    assert evaluate(source) == expected


def test_string_from_sid() -> None:
    sid = bytes.fromhex("010500000000000515000000a065cf7e784b9b5fe77c8770091c0100")
    assert evaluate("StringFromSid([s])", {"s": sid}) == (
        "S-1-5-21-2127521184-1604012920-1887927527-72713"
    )


def test_contains_matches_references_whole() -> None:
    refs = [Ref("cn=group1,dc=x"), Ref("cn=group10,dc=x")]
    assert evaluate('Contains([m], "cn=group10,dc=x")', {"m": refs}) == 2
    assert evaluate('Contains([m], "group1")', {"m": refs}) == 0


def test_cguid_is_binary_mixed_endian() -> None:
    text = "12345678-1234-5678-9abc-def012345678"
    assert evaluate(f'CGuid("{text}")') == uuid.UUID(text).bytes_le


def test_switch_evaluates_every_condition() -> None:
    # A failing later condition is still evaluated, as the reference says.
    with pytest.raises(ExpressionRuntimeError):
        evaluate('Switch(True, "a", CNum("x") = 1, "b")')


def test_registry_covers_every_family_of_the_reference() -> None:
    families = {spec.family for spec in REGISTRY.values()}
    assert families == {
        "cert",
        "conversion",
        "dates",
        "directory",
        "evaluation",
        "flow",
        "multivalued",
        "numeric",
        "text",
    }
    assert all(spec.min_args <= spec.max_args for spec in REGISTRY.values())


def test_split_per_value_gives_one_flat_list() -> None:
    assert evaluate('Split([mv], ";")', {"mv": ["a;b", "c"]}) == ["a", "b", "c"]


def test_compiled_expression_pickles_and_sentinels_keep_identity() -> None:
    import pickle

    compiled = compile_expression("IIF(IsPresent([a]), Left([a], 2), IgnoreThisFlow)")
    clone = pickle.loads(pickle.dumps(compiled))
    assert clone(DictContext({"a": "xyz"})) == "xy"
    assert clone(DictContext({})) is IGNORE_THIS_FLOW
    assert pickle.loads(pickle.dumps(IGNORE_THIS_FLOW)) is IGNORE_THIS_FLOW
    assert clone.attributes == compiled.attributes


@FAST
@given(
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    st.lists(
        st.sampled_from(
            [
                "yyyy",
                "yy",
                "MM",
                "dd",
                "HH",
                "hh",
                "mm",
                "ss",
                "-",
                ".0Z",
                "%",
                "'T'",
                " ",
                "M",
                "d",
                "fff",
                "tt",
            ]
        ),
        max_size=8,
    ),
)
def test_format_date_time_fast_path_matches_the_general_formatter(
    when: dt.datetime, parts: list[str]
) -> None:
    from idsync.expressions.functions.dates import _FORMAT_TOKEN, _format_one

    pattern = "".join(parts)
    value = when.replace(tzinfo=dt.UTC)
    general = "".join(_format_one(t, value) for t in _FORMAT_TOKEN.findall(pattern))
    assert evaluate("FormatDateTime([d], [p])", {"d": value, "p": pattern}) == general
