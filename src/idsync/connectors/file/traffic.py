"""Bytes a file connector run reads and writes, from the files themselves (the connector does
no counting of its own): a full import reads the content file, a delta import the changes
file from its watermark offset to the new one, an export writes what the content file, its
journal and the export log grew by (a content file an export replaced counts whole)."""

from __future__ import annotations

import os
from typing import Any

from idsync.connectors.traffic import Traffic

Snapshot = dict[str, tuple[int, int]]  # path -> (inode, size)


def snapshot(connector: Any) -> Snapshot:
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


def import_traffic(connector: Any, full: bool, offset_before: int | None,
                   offset_after: int | None) -> Traffic:
    if full:
        try:
            return Traffic(bytes_received=os.path.getsize(connector.path))
        except OSError:
            return Traffic()
    if offset_before is None or offset_after is None:
        return Traffic()
    return Traffic(bytes_received=max(0, offset_after - offset_before))
