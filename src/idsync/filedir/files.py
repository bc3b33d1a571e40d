"""The file operations of the file directory: sizes and identities of its files that may not
exist yet, and appending change records to a changelog durably."""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterable
from contextlib import suppress

from idsync.filedir.ldif import ChangeRecord, format_record


def append_records(path: str, records: Iterable[ChangeRecord]) -> None:
    """Append change records to a changelog in one write, starting on a fresh record."""
    append_formatted(path, [format_record(record) for record in records])


def append_formatted(path: str, formatted: list[bytes]) -> None:
    payload = b"".join(formatted)
    with open(path, "ab") as handle:
        if handle.tell() > 0 and not _ends_with_blank_line(path):
            payload = b"\n" + payload
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())


def _ends_with_blank_line(path: str) -> bool:
    with open(path, "rb") as handle:
        handle.seek(max(0, os.path.getsize(path) - 2))
        return handle.read().endswith(b"\n\n")


def file_size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        return 0


def inode_of(path: str) -> int:
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return 0


def unlink(path: str) -> None:
    with suppress(FileNotFoundError):
        os.unlink(path)


def content_identity(path: str) -> str:
    """Which content file this is: inode, size, mtime and a checksum of its last 64 KiB.
    ``os.replace`` keeps all four, and a file written anew (an edit, a copy) changes them."""
    try:
        with open(path, "rb") as handle:
            stat = os.fstat(handle.fileno())
            handle.seek(max(0, stat.st_size - 65536))
            crc = zlib.crc32(handle.read())
    except FileNotFoundError:
        return "none"
    return f"{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}:{crc:08x}"

