"""Extended DNs (``<GUID=...>;<SID=...>;CN=x,DC=...``) as DirSync and the extended-DN control
return them in ``member`` values and entry names."""

from __future__ import annotations

import re
import uuid

_PART = re.compile(r"<(?P<k>GUID|SID|WKGUID)=(?P<v>[^>]*)>;?", re.IGNORECASE)


def parse_extended_dn(value: str) -> tuple[str, str | None]:
    """-> (plain DN, GUID string or None). A plain DN passes through."""
    guid = None
    pos = 0
    while m := _PART.match(value, pos):
        if m["k"].upper() == "GUID":
            raw = m["v"]
            # The hex form (no dashes) is the GUID's bytes in storage order.
            if len(raw) == 32 and "-" not in raw:
                guid = str(uuid.UUID(bytes_le=bytes.fromhex(raw)))
            else:
                guid = raw.lower()
        pos = m.end()
    return value[pos:], guid
