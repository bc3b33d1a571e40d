"""objectGUID as an anchor: AD stores the GUID as 16 bytes in Microsoft's mixed-endian layout;
the anchor is the GUID string Windows tools print (``{...}`` without the braces)."""

from __future__ import annotations

import uuid


def guid_to_str(raw: bytes) -> str:
    return str(uuid.UUID(bytes_le=raw))


def str_to_guid(text: str) -> bytes:
    return uuid.UUID(text.strip("{}")).bytes_le


def guid_filter_value(text: str) -> str:
    """The escaped filter form ``\\xx\\xx...`` for ``(objectGUID=...)`` searches."""
    return "".join(f"\\{b:02x}" for b in str_to_guid(text))
