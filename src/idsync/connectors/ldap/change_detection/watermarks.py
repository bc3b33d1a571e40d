"""The watermark of each change detector, typed: what a detector keeps between runs to ask
"what changed since". The engine stores a watermark as the dict ``to_dict()`` returns (key
order included), so the stored form is the one earlier releases wrote, and ``from_dict``
reads it with the defaults the detectors always applied to a missing or empty field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from idsync.connectors.base import Watermark

#: Before any change: reqStart and generalizedTime values compare as text.
EPOCH_REQ_START = "19700101000000.000000Z"
EPOCH_TIMESTAMP = "19700101000000Z"


@dataclass(frozen=True, slots=True)
class SyncreplWatermark:
    """One RFC 4533 cookie per partition ("" when the server had no contextCSN)."""

    strategy: ClassVar[str] = "syncrepl"
    cookies: Mapping[str, str]

    def to_dict(self) -> Watermark:
        return {"strategy": self.strategy, "cookies": dict(self.cookies)}

    @classmethod
    def from_dict(cls, stored: Watermark) -> SyncreplWatermark:
        return cls(dict(stored.get("cookies") or {}))


@dataclass(frozen=True, slots=True)
class AccesslogWatermark:
    """The ``reqStart`` of the last accesslog entry read."""

    strategy: ClassVar[str] = "accesslog"
    req_start: str

    def to_dict(self) -> Watermark:
        return {"strategy": self.strategy, "req_start": self.req_start}

    @classmethod
    def from_dict(cls, stored: Watermark) -> AccesslogWatermark:
        return cls(str(stored.get("req_start") or EPOCH_REQ_START))


@dataclass(frozen=True, slots=True)
class DirSyncWatermark:
    """One DirSync cookie per partition, base64 ("" before the first read)."""

    strategy: ClassVar[str] = "dirsync"
    cookies: Mapping[str, str]

    def to_dict(self) -> Watermark:
        return {"strategy": self.strategy, "cookies": dict(self.cookies)}

    @classmethod
    def from_dict(cls, stored: Watermark) -> DirSyncWatermark:
        return cls(dict(stored.get("cookies") or {}))


@dataclass(frozen=True, slots=True)
class UsnWatermark:
    """Active Directory's highestCommittedUSN when the previous read started."""

    strategy: ClassVar[str] = "usn"
    usn: int

    def to_dict(self) -> Watermark:
        return {"strategy": self.strategy, "usn": self.usn}

    @classmethod
    def from_dict(cls, stored: Watermark) -> UsnWatermark:
        return cls(int(stored.get("usn", 0)))


@dataclass(frozen=True, slots=True)
class ModifyTimestampWatermark:
    """The newest modifyTimestamp read (generalizedTime, whole seconds)."""

    strategy: ClassVar[str] = "modify_timestamp"
    timestamp: str

    def to_dict(self) -> Watermark:
        return {"strategy": self.strategy, "timestamp": self.timestamp}

    @classmethod
    def from_dict(cls, stored: Watermark) -> ModifyTimestampWatermark:
        return cls(str(stored.get("timestamp") or EPOCH_TIMESTAMP))
