"""The values expressions compute with: sentinels, references and the bare enum words.

NULL is Python ``None``. Everything else is a plain Python value (str, int, bool, bytes,
timezone-aware UTC datetime), a :class:`Ref`, or a list of those for a multi-valued result.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Final


class _Sentinel:
    """A named singleton; identity is what matters, so it is never equal to anything else."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name

    def __reduce__(self) -> str:
        # Pickling returns the module-level singleton, so `is` keeps working across processes.
        return self._name


IGNORE_THIS_FLOW: Final = _Sentinel("IGNORE_THIS_FLOW")
AUTHORITATIVE_NULL: Final = _Sentinel("AUTHORITATIVE_NULL")


class Ref(str):
    """A reference value: the DN of another object (``CRef`` returns one)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Ref({str.__repr__(self)})"


class EnumWord(str):
    """A bare enum-ish word a function takes as an argument (``UTF8``, ``vbTextCompare``...)."""

    __slots__ = ()


ENUM_WORDS: Final[frozenset[str]] = frozenset(
    {
        "UTF8",
        "Unicode",
        "ASCII",
        "CaseSensitive",
        "CaseInsensitive",
        "vbTextCompare",
        "vbBinaryCompare",
    }
)


def kind_of(value: Any) -> str:
    """Name the expression-language type of a Python value, for type checks and messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "num"
    if isinstance(value, Ref):
        return "ref"
    if isinstance(value, EnumWord):
        return "enum"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (bytes, bytearray)):
        return "bin"
    if isinstance(value, _dt.datetime):
        return "dt"
    if isinstance(value, list):
        return "mv"
    if value is IGNORE_THIS_FLOW or value is AUTHORITATIVE_NULL:
        return "special"
    return type(value).__name__
