"""The file connector's watermark, typed: the byte offset in the changes file up to which
change records were read. Stored as ``{"offset": N}``, as earlier releases wrote it."""

from __future__ import annotations

from dataclasses import dataclass

from idsync.connectors.base import Watermark


@dataclass(frozen=True, slots=True)
class FileWatermark:
    offset: int

    def to_dict(self) -> Watermark:
        return {"offset": self.offset}

    @classmethod
    def from_dict(cls, stored: Watermark | None) -> FileWatermark:
        """No watermark (or none stored yet) is the start of the changes file."""
        return cls(int((stored or {}).get("offset", 0)))
