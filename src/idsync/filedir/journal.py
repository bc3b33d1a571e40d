"""The export journal: change records applied since the content file was last compacted.

``<path>.journal`` is an LDIF change file (ldapmodify can read it). Each apply call appends one
batch: its applied change records (stamped like the changelog's), then a comment line
``# idsync-commit <payload bytes> <crc32>``. That line is the commit point: a batch without
it (a process killed mid-write, a torn tail after a power cut) was never applied and is cut
off. Our writer never writes comment lines inside records, so a line starting with ``#`` in
the journal is always one of our markers.

Compaction (folding the journal into a rewritten content file) appends
``# idsync-compacted <identity of the new content file>`` before it replaces the content file
and deletes the journal after: if a crash falls in between, the marker says whether the
content file on disk already holds the journal (its identity matches: drop the journal) or not
(drop the marker and keep the journal). Nothing is applied twice, nothing is lost.
"""

from __future__ import annotations

import os
import re
import zlib
from dataclasses import dataclass, field

_MARKER = re.compile(rb"^# idsync-(commit|compacted) ([^\n]*)\n\n", re.MULTILINE)


def commit_marker(payload: bytes) -> bytes:
    return b"# idsync-commit %d %08x\n\n" % (len(payload), zlib.crc32(payload))


def compacted_marker(base_identity: str) -> bytes:
    return b"# idsync-compacted " + base_identity.encode("ascii") + b"\n\n"


@dataclass(slots=True)
class JournalScan:
    """What a journal holds from ``start`` on."""

    batches: list[bytes] = field(default_factory=list)  # committed payloads, in order
    end: int = 0  # file offset after the last committed batch
    size: int = 0  # file size: bytes past ``end`` are a torn tail or a compaction marker
    compacted: str | None = None  # content identity named by a trailing compaction marker
    folded: bool = False  # a finished compaction had already folded the journal: dropped


def scan(path: str, start: int = 0) -> JournalScan:
    """Read the committed batches after byte ``start`` (a batch boundary)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(start)
            data = handle.read()
    except FileNotFoundError:
        return JournalScan(end=start, size=0)
    result = JournalScan(end=start, size=start + len(data))
    pos = 0
    for match in _MARKER.finditer(data):
        kind, argument = match.group(1), match.group(2)
        if kind == b"compacted":
            if match.start() == pos:
                result.compacted = argument.decode("ascii", "replace")
            break  # nothing valid follows a compaction marker
        try:
            length_text, crc_text = argument.split()
            length, crc = int(length_text), int(crc_text, 16)
        except ValueError:
            break
        payload = data[pos:match.start()]
        if length != len(payload) or zlib.crc32(payload) != crc:
            break  # a torn or damaged batch: it and everything after never committed
        result.batches.append(payload)
        pos = match.end()
    result.end = start + pos
    return result


def append_batch(path: str, payload: bytes) -> tuple[int, int]:
    """Append one committed batch; returns the journal's (inode, size) after it."""
    created = not os.path.exists(path)
    with open(path, "ab") as handle:
        handle.write(payload + commit_marker(payload))
        handle.flush()
        os.fsync(handle.fileno())
        stat = os.fstat(handle.fileno())
    if created:
        fsync_dir(os.path.dirname(os.path.abspath(path)))
    return stat.st_ino, stat.st_size


def append_marker(path: str, marker: bytes) -> None:
    with open(path, "ab") as handle:
        handle.write(marker)
        handle.flush()
        os.fsync(handle.fileno())


def truncate(path: str, length: int) -> None:
    with open(path, "r+b") as handle:
        handle.truncate(length)
        handle.flush()
        os.fsync(handle.fileno())


def fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
