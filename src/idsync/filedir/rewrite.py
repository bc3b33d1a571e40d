"""The atomic rewrite of a content file: a new file beside the old one, written, fsynced and
swapped in with ``os.replace``, then the journal it folded in removed and the index rebuilt.
Two writers feed it: the copy with one apply call's changes, and compaction's merge of the
content file with the journal (through the index)."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable
from typing import BinaryIO, Protocol

from idsync.filedir.dn import normalize_dn
from idsync.filedir.entries import Entry, entry_bytes
from idsync.filedir.files import content_identity, unlink
from idsync.filedir.index import ContentIndex, remove_index
from idsync.filedir.journal import append_marker, compacted_marker, fsync_dir
from idsync.filedir.ldif import LdifError, RawRecord, iter_raw_records, raw_dn

#: Writes the new content file; fills the index rows (normalized DN, offset, length) of the
#: entries it writes and returns the file's size.
Writer = Callable[[BinaryIO, list[tuple[str, int, int]]], int]


class DirectoryFiles(Protocol):
    """The files of one directory (a :class:`~idsync.filedir.directory.FileDirectory`)."""

    @property
    def path(self) -> str: ...

    @property
    def journal_path(self) -> str: ...

    @property
    def index_path(self) -> str: ...

    @property
    def journal_min_bytes(self) -> int: ...


def replace_content(paths: DirectoryFiles, write: Writer, index: ContentIndex | None = None,
                    keep_index: bool = True) -> None:
    """Write a new content file beside the old one (``write`` returns its size and fills
    the index rows) and swap it in atomically; a journal it folds in goes after the swap
    (see journal.py for the crash in between), and the index is rebuilt from the rows."""
    directory = os.path.dirname(os.path.abspath(paths.path))
    # Named after the content file: under its lock, any such file is a killed writer's.
    prefix = f".{os.path.basename(paths.path)}.idsync-"
    for name in os.listdir(directory):
        if name.startswith(prefix):
            unlink(os.path.join(directory, name))
    handle, temp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=directory)
    rows: list[tuple[str, int, int]] = []
    try:
        with os.fdopen(handle, "wb") as out:
            size = write(out, rows)
            out.flush()
            os.fsync(out.fileno())
        if os.path.exists(paths.journal_path):
            append_marker(paths.journal_path, compacted_marker(content_identity(temp)))
        os.replace(temp, paths.path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    fsync_dir(directory)
    if os.path.exists(paths.journal_path):
        unlink(paths.journal_path)
        fsync_dir(directory)
    if not keep_index and index is None:
        remove_index(paths.index_path)  # stale now; the next export rebuilds it
        return
    if size < paths.journal_min_bytes:
        # Small files are rewritten on every apply and need no index.
        if index is not None:
            index.drop()
        remove_index(paths.index_path)
        return
    own = index is None
    index = index or ContentIndex(paths.index_path)
    try:
        index.rebuild(rows, content_identity(paths.path), 0, 0)
    finally:
        if own:
            index.close()


def write_entry(out: BinaryIO, data: bytes, dn: str | None, position: int,
                 rows: list[tuple[str, int, int]], key: str | None = None) -> int:
    out.write(data)
    key = key if key is not None else normalize_dn(dn or "")
    rows.append((key, position, record_length(data)))
    return position + len(data)


def record_length(data: bytes) -> int:
    """A record's length as the reader counts it: up to its last newline, without the blank
    separator line, so index offsets mean the same in any content file."""
    return len(data.rstrip(b"\n")) + 1


class Merge:
    """Writes content records in file order for compaction, copying runs of unchanged
    records (one blank line apart) as single byte ranges."""

    _BLOCK = 1 << 20

    def __init__(self, source: BinaryIO, out: BinaryIO,
                 rows: list[tuple[str, int, int]]) -> None:
        self.fd = source.fileno()
        self.out = out
        self.rows = rows
        self.position = 0  # bytes written
        self.cursor = 0  # source bytes handled
        self.start: int | None = None  # pending range of unchanged records

    def record(self, key: str, offset: int, length: int, image: bytes | None) -> None:
        if offset != self.cursor + 1 or self.start is None or image is not None:
            self._flush()
            self._gap(offset)
        if image is None:
            if self.start is None:
                self.start = offset
            self.rows.append((key, self.position + offset - self.start, length))
        else:
            if starts_with_version(os.pread(self.fd, min(length, 4096), offset)):
                self._write(b"version: 1\n\n")  # the version line shared the entry's block
            self.rows.append((key, self.position, record_length(image)))
            self._write(image)
        self.cursor = offset + length

    def finish(self) -> None:
        self._flush()
        self._gap(os.fstat(self.fd).st_size)

    def _flush(self) -> None:
        if self.start is None:
            return
        offset = self.start
        while offset < self.cursor:
            block = os.pread(self.fd, min(self._BLOCK, self.cursor - offset), offset)
            if not block:
                raise LdifError("the content file changed during compaction")
            self._write(block)
            offset += len(block)
        self._write(b"\n")
        self.start = None

    def _gap(self, end: int) -> None:
        """Source bytes between records the index names: blank lines, comment blocks (kept)
        and deleted entries (dropped)."""
        if end <= self.cursor:
            return
        data = os.pread(self.fd, end - self.cursor, self.cursor)
        if not data.strip():
            return
        for raw in iter_raw_records(io.BytesIO(data)):
            if raw_dn(raw) is None:
                self._write(raw.raw + b"\n")
            elif raw.lines and raw.lines[0][2].lower().startswith(b"version:"):
                self._write(b"version: 1\n\n")

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.position += len(data)


def starts_with_version(data: bytes) -> bool:
    raw = RawRecord(data, 1, 0, len(data))
    return bool(raw.lines) and raw.lines[0][2].lower().startswith(b"version:")


def copy_with_changes(source: BinaryIO, out: BinaryIO, by_origin: dict[str, Entry | None],
                       rows: list[tuple[str, int, int]]) -> int:
    """Copy the content file, replacing changed entries in place and dropping deleted ones;
    ``rows`` gets (normalized DN, offset, length) of every entry written. Returns the size."""
    position = 0
    for raw in iter_raw_records(source):
        dn = raw_dn(raw)
        key = normalize_dn(dn) if dn is not None else None
        if key is None or key not in by_origin:
            if key is not None:
                rows.append((key, position, len(raw.raw)))
            out.write(raw.raw)
            out.write(b"\n")
            position += len(raw.raw) + 1
            continue
        entry = by_origin[key]
        if raw.lines and raw.lines[0][2].lower().startswith(b"version:"):
            out.write(b"version: 1\n\n")  # the version line shared the entry's block
            position += 12
        if entry is not None:
            position = write_entry(out, entry_bytes(entry), entry.dn, position, rows)
    return position
