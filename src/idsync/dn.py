"""Distinguished names (RFC 4514): parsing, normalising, escaping.

Connector spaces look objects up by DN (placeholders, reverse joins, references), so two
spellings of one DN must meet: attribute types and values compare case-insensitively and the
spaces around separators do not count. Escapes are kept intact.
"""

from __future__ import annotations

_SPECIAL = set(',+"\\<>;=')


def split_rdns(dn: str) -> list[str]:
    """Split a DN into its RDN strings at unescaped commas (and semicolons)."""
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    quoted = False
    for ch in dn:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            current.append(ch)
            escaped = True
        elif ch == '"':
            current.append(ch)
            quoted = not quoted
        elif ch in ",;" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    tail = "".join(current)
    if tail.strip() or parts:
        parts.append(tail)
    return [p.strip() for p in parts if p.strip()]


def split_rdn(rdn: str) -> tuple[str, str]:
    """``cn=Joe`` -> ("cn", "Joe") (the value keeps its escapes)."""
    key, sep, value = rdn.partition("=")
    if not sep:
        raise ValueError(f"not an RDN: {rdn!r}")
    return key.strip(), value.strip()


def _trim_escaped(value: str) -> str:
    # A trailing escaped space ("\ ") belongs to the value; strip() would only eat the space.
    return value.strip() if not value.endswith("\\ ") else value.lstrip()


def normalize_dn(dn: str) -> str:
    """The comparable form of a DN: lower case, no spaces around separators."""
    if "\\" not in dn and '"' not in dn and "+" not in dn and ";" not in dn:
        # The common case, no escapes, quotes or multi-valued RDNs: a plain split is exact
        # and several times faster (the engine normalises a DN per object and reference).
        out = []
        for part in dn.split(","):
            key, sep, value = part.partition("=")
            if not sep:
                if part.strip():
                    raise ValueError(f"not an RDN: {part!r}")
                continue
            out.append(f"{key.strip().lower()}={value.strip().lower()}")
        return ",".join(out)
    out = []
    for rdn in split_rdns(dn):
        avas = []
        for ava in _split_unescaped(rdn, "+"):
            key, value = split_rdn(ava)
            avas.append(f"{key.lower()}={_trim_escaped(value).lower()}")
        out.append("+".join(sorted(avas)))
    return ",".join(out)


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, current, escaped = [], [], False
    for ch in text:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            current.append(ch)
            escaped = True
        elif ch == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def escape_value(value: str) -> str:
    """Escape an attribute value for use in an RDN (RFC 4514 section 2.4)."""
    out = []
    for i, ch in enumerate(value):
        if ch in _SPECIAL or (ch == "#" and i == 0) or (ch == " " and i in (0, len(value) - 1)):
            out.append("\\" + ch)
        elif ord(ch) < 0x20:
            out.append(f"\\{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out)


def unescape_value(value: str) -> str:
    out: list[str] = []
    raw = bytearray()
    i = 0

    def flush() -> None:
        if raw:
            out.append(raw.decode("utf-8", errors="replace"))
            raw.clear()

    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            pair = value[i + 1 : i + 3]
            if len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair):
                raw.append(int(pair, 16))
                i += 3
                continue
            flush()
            out.append(value[i + 1])
            i += 2
            continue
        flush()
        out.append(ch)
        i += 1
    flush()
    return "".join(out)


def rdn_value(dn: str) -> str:
    """The unescaped value of the first RDN: ``cn=Joe\\, Jr,ou=x`` -> ``Joe, Jr``."""
    rdns = split_rdns(dn)
    if not rdns:
        return ""
    return unescape_value(split_rdn(rdns[0])[1])


def parent_dn(dn: str) -> str:
    rdns = split_rdns(dn)
    return ",".join(rdns[1:])


def is_under(dn: str, container: str) -> bool:
    """True when ``dn`` is ``container`` or below it."""
    d, c = normalize_dn(dn), normalize_dn(container)
    return d == c or d.endswith("," + c)
