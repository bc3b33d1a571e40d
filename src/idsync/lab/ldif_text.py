"""LDIF text for loading the lab's servers (slapadd, the data generator): one attribute line,
one entry. A few lines of its own so the generator and the server share it without importing
each other."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence


def ldif_value(attr: str, value: str | bytes) -> str:
    """One LDIF line, base64 when the value is not a SAFE-STRING (RFC 2849)."""
    raw = value.encode("utf-8") if isinstance(value, str) else value
    unsafe = (not raw or raw[0] in b" :<" or raw.endswith(b" ")
              or any(c > 126 or c in (0, 10, 13) for c in raw))
    if unsafe:
        return f"{attr}:: {base64.b64encode(raw).decode()}\n"
    return f"{attr}: {raw.decode()}\n"


def ldif_entry(dn: str, attrs: Mapping[str, Sequence[str | bytes] | str | bytes]) -> str:
    lines = [ldif_value("dn", dn)]
    for name, values in attrs.items():
        if isinstance(values, str | bytes):
            values = [values]
        lines.extend(ldif_value(name, v) for v in values)
    return "".join(lines) + "\n"
