"""Text functions: Guid, InStr, InStrRev, LCase, Left, Len, LTrim, Mid, PadLeft, PadRight,
PCase, Replace, ReplaceChars, Right, RTrim, Trim, UCase, Word."""

from __future__ import annotations

import uuid
from typing import Any

from idsync.expressions.errors import ExpressionRuntimeError
from idsync.expressions.functions.registry import function, want_enum, want_num, want_str

_COMPARES = ("vbBinaryCompare", "vbTextCompare")
# No directory value comes near this; it stops PadLeft("x", 10^12, "0") eating the memory.
MAX_LENGTH = 1 << 20


@function("Guid", 0, per_value=(), pure=False)
def guid() -> str:
    return str(uuid.uuid4())


def _compare(fn: str, compare: Any) -> bool:
    """True for a case-insensitive (text) comparison."""
    if compare is None:
        return False
    return want_enum(fn, compare, _COMPARES, "comparison") == "vbTextCompare"


@function("InStr", 2, 4)
def in_str(value: Any, match: Any, start: Any = 1, compare: Any = None) -> int | None:
    if value is None:
        return None
    text, needle = want_str("InStr", value), want_str("InStr", match, "match")
    begin = want_num("InStr", start, "start")
    if begin < 1:
        raise ExpressionRuntimeError(f"InStr: start must be 1 or more, got {begin}")
    if _compare("InStr", compare):
        text, needle = text.casefold(), needle.casefold()
    return text.find(needle, begin - 1) + 1


@function("InStrRev", 2, 4)
def in_str_rev(value: Any, match: Any, start: Any = -1, compare: Any = None) -> int | None:
    if value is None:
        return None
    text, needle = want_str("InStrRev", value), want_str("InStrRev", match, "match")
    end = want_num("InStrRev", start, "start")
    if end == 0 or end < -1:
        raise ExpressionRuntimeError(f"InStrRev: start must be -1 or 1 or more, got {end}")
    if _compare("InStrRev", compare):
        text, needle = text.casefold(), needle.casefold()
    # The match must end at or before ``start`` (1-based, -1 = end of the string).
    limit = len(text) if end == -1 else min(end, len(text))
    return text.rfind(needle, 0, limit) + 1


def _str_fn(name: str, op: Any) -> None:
    def impl(value: Any) -> str | None:
        return None if value is None else op(want_str(name, value))

    impl.__name__ = name
    impl.__module__ = __name__
    function(name, 1)(impl)


_str_fn("LCase", str.lower)
_str_fn("UCase", str.upper)
_str_fn("LTrim", str.lstrip)
_str_fn("RTrim", str.rstrip)
_str_fn("Trim", str.strip)


@function("Len", 1)
def length(value: Any) -> int | None:
    return None if value is None else len(want_str("Len", value))


@function("Left", 2)
def left(value: Any, count: Any) -> str:
    if value is None:
        return ""
    text, n = want_str("Left", value), want_num("Left", count, "length")
    return text if n < 0 else text[:n]


@function("Right", 2)
def right(value: Any, count: Any) -> str:
    if value is None:
        return ""
    text, n = want_str("Right", value), want_num("Right", count, "length")
    if n < 0 or n >= len(text):
        return text
    return text[len(text) - n :] if n else ""


@function("Mid", 2, 3)
def mid(value: Any, start: Any, count: Any = None) -> str:
    if value is None:
        return ""
    text, begin = want_str("Mid", value), want_num("Mid", start, "start")
    n = len(text) if count is None else want_num("Mid", count, "length")
    if n == 0:
        return ""
    if n < 0 or begin <= 0 or begin > len(text):
        return text
    return text[begin - 1 : begin - 1 + n]


def _pad(fn: str, value: Any, width: Any, pad: Any) -> tuple[str, int, str] | None:
    if pad is None:
        raise ExpressionRuntimeError(f"{fn}: the padding character must not be NULL")
    char = want_str(fn, pad, "padding character")
    if len(char) != 1:
        raise ExpressionRuntimeError(f"{fn}: the padding must be one character, got {char!r}")
    n = want_num(fn, width, "length")
    if n > MAX_LENGTH:
        raise ExpressionRuntimeError(f"{fn}: length {n} is over the {MAX_LENGTH} limit")
    if value is None:
        return None
    return want_str(fn, value), n, char


@function("PadLeft", 3)
def pad_left(value: Any, width: Any, pad: Any) -> str:
    parts = _pad("PadLeft", value, width, pad)
    return "" if parts is None else parts[0].rjust(parts[1], parts[2])


@function("PadRight", 3)
def pad_right(value: Any, width: Any, pad: Any) -> str:
    parts = _pad("PadRight", value, width, pad)
    return "" if parts is None else parts[0].ljust(parts[1], parts[2])


@function("PCase", 1)
def pcase(value: Any) -> str | None:
    if value is None:
        return None
    words = want_str("PCase", value).split(" ")
    return " ".join(w[:1].upper() + w[1:].lower() for w in words)


_ESCAPES = (("\\n", "\n"), ("\\r", "\r"), ("\\t", "\t"))


def _unescape(text: str) -> str:
    for escaped, char in _ESCAPES:
        text = text.replace(escaped, char)
    return text


@function("Replace", 3)
def replace(value: Any, old: Any, new: Any) -> str | None:
    if value is None:
        return None
    text = want_str("Replace", value)
    target = _unescape(want_str("Replace", old, "text to replace"))
    if not target:
        return text
    replacement = "" if new is None else _unescape(want_str("Replace", new, "replacement"))
    return text.replace(target, replacement)


def parse_char_map(spec: str) -> dict[str, str]:
    """``"a:b,c:d"`` to a map; whitespace is ignored, an empty target deletes the source."""
    table: dict[str, str] = {}
    for pair in "".join(spec.split()).split(","):
        if not pair:
            continue
        source, sep, target = pair.partition(":")
        if not sep or len(source) != 1:
            raise ExpressionRuntimeError(
                f"ReplaceChars: {pair!r} is not 'c:replacement' with one source character"
            )
        table[source] = target
    return table


@function("ReplaceChars", 2)
def replace_chars(value: Any, spec: Any) -> str | None:
    if value is None:
        return None
    text = want_str("ReplaceChars", value)
    table = str.maketrans(parse_char_map(want_str("ReplaceChars", spec, "replacement map")))
    return text.translate(table)


@function("Word", 3)
def word(value: Any, number: Any, delimiters: Any) -> str:
    n = want_num("Word", number, "word number")
    if value is None or n < 1:
        return ""
    text = want_str("Word", value)
    delims = want_str("Word", delimiters, "delimiters")
    words: list[str] = []
    current: list[str] = []
    for ch in text:
        if ch in delims:
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(ch)
    if current:
        words.append("".join(current))
    return words[n - 1] if n <= len(words) else ""
