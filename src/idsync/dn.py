"""Distinguished names (RFC 4514): splitting, normalising, escaping.

Connector spaces look objects up by DN (placeholders, reverse joins, references) and the file
directory finds entries by DN, so two spellings of one DN must meet: attribute types and values
compare case-insensitively and the blanks around separators do not count. Escapes are kept
verbatim in the normalised form; multi-valued RDNs (``cn=a+uid=b``) are sorted.
"""

from __future__ import annotations


def split_dn(dn: str) -> list[str]:
    """Split a DN into its RDN strings, honouring backslash escapes and quoted values."""
    rdns: list[str] = []
    current: list[str] = []
    escaped = quoted = False
    for char in dn:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char == '"':
            current.append(char)
            quoted = not quoted
        elif char in ",;" and not quoted:
            rdns.append(_strip("".join(current)))
            current = []
        else:
            current.append(char)
    tail = _strip("".join(current))
    if tail or rdns:
        rdns.append(tail)
    return rdns


def _normalize_rdn(rdn: str) -> str:
    # Each AVA: type lowercased, value lowercased with surrounding blanks removed. Escapes are
    # kept verbatim; two spellings of one escaped character are rare enough to ignore here.
    avas = []
    for ava in _split_unescaped(rdn, "+"):
        attr, sep, value = ava.partition("=")
        avas.append(f"{attr.strip(' ').lower()}{sep}{_strip(value).lower()}")
    return "+".join(sorted(avas))


def _strip(text: str) -> str:
    """Strip blanks around a DN part, keeping an escaped trailing space (``cn=a\\ ``)."""
    text = text.lstrip(" ")
    end = len(text)
    while end and text[end - 1] == " ":
        backslashes = 0
        while end - 2 - backslashes >= 0 and text[end - 2 - backslashes] == "\\":
            backslashes += 1
        if backslashes % 2:
            break
        end -= 1
    return text[:end]


def _split_unescaped(text: str, separator: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def normalize_dn(dn: str) -> str:
    """The comparison key of a DN: ``CN=A, OU=B`` and ``cn=a,ou=b`` give the same key."""
    if "\\" not in dn and '"' not in dn and "+" not in dn and ";" not in dn:
        # Fast path for the usual DN (no escapes, quotes or multi-valued RDNs): this runs
        # for every record of the content file on each export.
        lowered = dn.lower()
        if " " not in lowered:
            return lowered
        parts = []
        for rdn in lowered.split(","):
            attr, sep, value = rdn.partition("=")
            parts.append(f"{attr.strip(' ')}{sep}{value.strip(' ')}")
        return ",".join(parts)
    return ",".join(_normalize_rdn(rdn) for rdn in split_dn(dn))


def parent_dn(dn: str) -> str:
    """The DN of the parent entry ('' for a one-RDN DN)."""
    return ",".join(split_dn(dn)[1:])


def rdn_of(dn: str) -> str:
    rdns = split_dn(dn)
    return rdns[0] if rdns else ""


def rdn_values(rdn: str) -> list[tuple[str, str]]:
    """The (attribute, value) pairs of an RDN, escapes removed (``cn=Smith\\, J`` -> Smith, J)."""
    pairs = []
    for ava in _split_unescaped(rdn, "+"):
        attr, _, value = ava.partition("=")
        pairs.append((attr.strip(" "), _unescape(_strip(value))))
    return pairs


def _unescape(value: str) -> str:
    if value.startswith('"') and value.endswith('"') and len(value) >= 2:
        return value[1:-1]
    out = bytearray()
    i = 0
    while i < len(value):
        char = value[i]
        if char == "\\" and i + 1 < len(value):
            pair = value[i + 1 : i + 3]
            if len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair):
                out.append(int(pair, 16))
                i += 3
                continue
            out.extend(value[i + 1].encode())
            i += 2
            continue
        out.extend(char.encode())
        i += 1
    return out.decode("utf-8", errors="replace")


def escape_rdn_value(value: str) -> str:
    """Escape a value for use in an RDN (RFC 4514 section 2.4)."""
    out = []
    for index, char in enumerate(value):
        if char in ',+"\\<>;=' or (char == "#" and index == 0):
            out.append("\\" + char)
        elif char == " " and (index == 0 or index == len(value) - 1):
            out.append("\\ ")
        elif char == "\x00":
            out.append("\\00")
        else:
            out.append(char)
    return "".join(out)


# --- names used across the engine -------------------------------------------------------------

split_rdns = split_dn
escape_value = escape_rdn_value
unescape_value = _unescape


def split_rdn(rdn: str) -> tuple[str, str]:
    """``cn=Joe`` -> ("cn", "Joe") (the value keeps its escapes)."""
    key, sep, value = rdn.partition("=")
    if not sep:
        raise ValueError(f"not an RDN: {rdn!r}")
    return key.strip(), _strip(value)


def rdn_value(dn: str) -> str:
    """The unescaped value of the first RDN: ``cn=Joe\\, Jr,ou=x`` -> ``Joe, Jr``."""
    rdn = rdn_of(dn)
    if not rdn:
        return ""
    return rdn_values(rdn)[0][1]


def is_under(dn: str, container: str) -> bool:
    """True when ``dn`` is ``container`` or below it."""
    d, c = normalize_dn(dn), normalize_dn(container)
    return d == c or d.endswith("," + c)
