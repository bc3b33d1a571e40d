"""Directory functions: DNComponent, DNComponentRev, EscapeDNComponent."""

from __future__ import annotations

import re
from typing import Any

from idsync.expressions.functions.registry import function, want_num, want_ref, want_str


def split_dn(dn: str) -> list[tuple[str, str]]:
    """RDNs of ``dn`` left to right as (type, value); escaped commas stay inside values."""
    parts = _split_plain(dn) if "\\" not in dn else _split_escaped(dn)
    rdns = []
    for part in parts:
        kind, _, value = part.partition("=")
        if part.strip():
            rdns.append((kind.strip(), value.strip()))
    return rdns


def _split_plain(dn: str) -> list[str]:
    # Most DNs have no escapes: let str.split do the work.
    return dn.replace(";", ",").split(",") if ";" in dn else dn.split(",")


def _split_escaped(dn: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(dn):
        ch = dn[i]
        if ch == "\\" and i + 1 < len(dn):
            current.append(dn[i : i + 2])
            i += 2
            continue
        if ch in ",;":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


@function("DNComponent", 2)
def dn_component(dn: Any, index: Any) -> str | None:
    if dn is None:
        return None
    rdns = split_dn(want_ref("DNComponent", dn, "DN"))
    n = want_num("DNComponent", index, "component number")
    return rdns[n - 1][1] if 1 <= n <= len(rdns) else None


@function("DNComponentRev", 2, 3)
def dn_component_rev(dn: Any, index: Any, skip: Any = None) -> str | None:
    if dn is None:
        return None
    rdns = split_dn(want_ref("DNComponentRev", dn, "DN"))
    n = want_num("DNComponentRev", index, "component number")
    if skip is not None:
        kind = want_str("DNComponentRev", skip, "component type to skip")
        # "DC" counts from the right starting after the domain components.
        rdns = [rdn for rdn in rdns if rdn[0].lower() != kind.lower()]
    return rdns[-n][1] if 1 <= n <= len(rdns) else None


_SPECIAL = set(',+"\\<>;=')
#: a value with none of the characters RFC 4514 escapes anywhere in it (the usual case)
_NEEDS_NO_ESCAPE = re.compile(r'[^,+"\\<>;=\0]*')


@function("EscapeDNComponent", 1)
def escape_dn_component(value: Any) -> str | None:
    """Escape the value of an RDN ``type=value`` (RFC 4514), leaving the type as it is."""
    if value is None:
        return None
    text = want_str("EscapeDNComponent", value)
    kind, sep, raw = text.partition("=")
    if not sep:
        kind, raw = "", text
    if _NEEDS_NO_ESCAPE.fullmatch(raw) and raw[:1] not in (" ", "#") and raw[-1:] != " ":
        return text
    out = []
    for i, ch in enumerate(raw):
        leading = i == 0 and ch in " #"
        trailing = i == len(raw) - 1 and ch == " "
        if ch in _SPECIAL or leading or trailing:
            out.append("\\" + ch)
        elif ch == "\0":
            out.append("\\00")
        else:
            out.append(ch)
    escaped = "".join(out)
    return f"{kind}={escaped}" if sep else escaped
