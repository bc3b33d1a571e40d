"""Bytes a file connector run reads and writes, from the files themselves (the connector does
no counting of its own): a full import reads the content file, a delta import the changes
file from its watermark offset to the new one, an export writes what the content file, its
journal and the export log grew by (a content file an export replaced counts whole)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Protocol

from idsync.connectors.traffic import Traffic
from idsync.model import RunProfile

Snapshot = dict[str, tuple[int, int]]  # path -> (inode, size)


class _Files(Protocol):
    """The file connector's files (not imported: the connector imports this module)."""

    path: str
    export_log: str | None


@dataclass(frozen=True, slots=True)
class TrafficMark:
    """Where a run started: the files' identities and sizes, the changes file's offset."""

    files: Snapshot
    offset: int | None


def mark(connector: _Files, watermark: dict[str, Any] | None) -> TrafficMark:
    return TrafficMark(snapshot(connector), offset(watermark))


def run_traffic(connector: _Files, start: TrafficMark, profile: RunProfile,
                watermark: dict[str, Any] | None) -> Traffic | None:
    if profile is RunProfile.EXPORT:
        return Traffic(bytes_sent=written(start.files, snapshot(connector)))
    if profile in (RunProfile.FULL_IMPORT, RunProfile.DELTA_IMPORT):
        return import_traffic(connector, profile is RunProfile.FULL_IMPORT, start.offset,
                              offset(watermark))
    return None


def offset(watermark: object) -> int | None:
    """The changes file's offset a watermark holds, if it holds one."""
    if isinstance(watermark, dict) and isinstance(watermark.get("offset"), int):
        return int(watermark["offset"])
    return None


def snapshot(connector: _Files) -> Snapshot:
    out: Snapshot = {}
    for path in (connector.path, connector.path + ".journal", connector.export_log):
        if path:
            try:
                st = os.stat(path)
            except OSError:
                continue
            out[path] = (st.st_ino, st.st_size)
    return out


def written(before: Snapshot, after: Snapshot) -> int:
    total = 0
    for path, (inode, size) in after.items():
        old = before.get(path)
        if old is None or old[0] != inode:
            total += size  # new or replaced: written whole
        elif size > old[1]:
            total += size - old[1]
    return total


def import_traffic(connector: _Files, full: bool, offset_before: int | None,
                   offset_after: int | None) -> Traffic:
    if full:
        try:
            return Traffic(bytes_received=os.path.getsize(connector.path))
        except OSError:
            return Traffic()
    if offset_before is None or offset_after is None:
        return Traffic()
    return Traffic(bytes_received=max(0, offset_after - offset_before))
