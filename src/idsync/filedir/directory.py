"""A small directory kept in an LDIF content file, changed the way a directory server would.

Changes are LDIF change records, applied in memory to the entries they name; memory follows the
number of changed objects, not the size of the directory. How they reach the disk depends on the
content file's size:

* under ``journal_min_bytes`` (1 MiB), one call to :meth:`FileDirectory.apply` reads the content
  file twice and rewrites it once, atomically (temp file, fsync, ``os.replace``): the first pass
  loads only the entries the changes name, the second copies every other record byte for byte;
* above, the entries are found through the index (index.py), the applied records are appended
  to the journal (journal.py: the commit point), and the content file is left alone until a
  compaction merges the two (when the journal passes ``journal_ratio`` of the content size, at
  a full import, or on :meth:`FileDirectory.compact`). The cost of an apply follows its changes.

Applied changes can be appended to a changelog file, each stamped with the entry's anchor in an
``ANCHOR_CONTROL_OID`` control, the way directory changelogs carry the entry's unique id
(OpenLDAP accesslog ``reqEntryUUID``, 389's ``targetUniqueId``): a delta import then knows
which object a delete or a rename is about without reading the content file.
"""

from __future__ import annotations

import fcntl
import io
import logging
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO

from idsync.filedir.changes import ChangeApplier
from idsync.filedir.dn import normalize_dn
from idsync.filedir.entries import Entry, Outcome, Run, entry_bytes, keys_of
from idsync.filedir.files import append_formatted, content_identity, file_size, inode_of, unlink
from idsync.filedir.index import INDEX_VERSION, ContentIndex, Row
from idsync.filedir.journal import JournalScan
from idsync.filedir.journal import append_batch as journal_append
from idsync.filedir.journal import scan as journal_scan
from idsync.filedir.journal import truncate as _truncate_journal
from idsync.filedir.ldif import (
    ChangeRecord,
    ContentRecord,
    RawRecord,
    Value,
    iter_raw_records,
    parse_raw,
    raw_dn,
    read_ldif,
)
from idsync.filedir.rewrite import Merge, copy_with_changes, replace_content, write_entry

_log = logging.getLogger(__name__)


@dataclass
class FileDirectory:
    path: str
    anchor_attribute: str = "entryUUID"
    binary_attributes: frozenset[str] = frozenset()
    reference_attributes: frozenset[str] = frozenset()
    #: Content files smaller than this are rewritten by every apply (a few ms): they stay
    #: current for whoever reads them, and need no journal or index.
    journal_min_bytes: int = 1 << 20
    #: Above it, the journal is folded in once it passes this fraction of the content size.
    journal_ratio: float = 0.25
    _changes: ChangeApplier = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._changes = self._applier()

    def _applier(self) -> ChangeApplier:
        return ChangeApplier(self.path, self.anchor_attribute, self.binary_attributes,
                             self.reference_attributes)

    # --- locking ----------------------------------------------------------------------

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Writers hold this for the whole change; readers only to take a consistent size."""
        with open(self.path + ".lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @property
    def journal_path(self) -> str:
        return self.path + ".journal"

    @property
    def index_path(self) -> str:
        return self.path + ".index"

    # --- applying ---------------------------------------------------------------------

    def apply(
        self, units: Iterable[Sequence[ChangeRecord]], log_path: str | None = None,
        *, compact: bool = False,
    ) -> list[Outcome]:
        """Apply each unit (a list of change records that succeed or fail together, e.g. a
        rename plus attribute edits) in order; one outcome per unit. Applied records are
        appended to ``log_path`` with the anchor control.

        A content file below ``journal_min_bytes`` (or ``compact=True``) is rewritten at
        once; a larger one gets the applied records in its journal, and is compacted when
        the journal passes ``journal_ratio`` of its size."""
        batch = [list(unit) for unit in units]
        self._changes = self._applier()
        try:
            with self.locked():
                small = file_size(self.path) < self.journal_min_bytes
                if compact or (small and not file_size(self.journal_path)):
                    self._compact_locked()  # a pending journal first: rewrites fold nothing
                    # An export keeps an index once the file is large (the next export
                    # needs it); apply_changes (compact=True) does not pay for one.
                    outcomes, applied = self._apply_rewriting(batch, index=not compact)
                else:
                    outcomes, applied = self._apply_journaled(batch)
                if applied and log_path:
                    append_formatted(log_path, applied)
                if not compact and self._compaction_due():
                    try:
                        self._compact_locked()
                    except Exception:
                        # The changes are committed in the journal; a compaction that
                        # failed (disk full?) left it as it was and is retried next time.
                        _log.warning("%s: compaction failed", self.path, exc_info=True)
        finally:
            self._changes = self._applier()
        return outcomes

    def compact(self) -> bool:
        """Fold the journal into the content file (one atomic rewrite), so the content file
        alone is the directory's current state. Returns whether there was anything to fold."""
        with self.locked():
            return self._compact_locked()

    def compact_held(self) -> bool:
        """:meth:`compact` for a caller already holding :meth:`locked`."""
        return self._compact_locked()

    def _compact_locked(self) -> bool:
        if not os.path.exists(self.journal_path):
            return False
        # Opening the index recovers the journal and brings the index up to it.
        index = self._open_index()
        try:
            if not os.path.exists(self.journal_path):
                return True  # a crashed compaction had already folded it
            if not file_size(self.journal_path):
                unlink(self.journal_path)  # only a torn batch was there: nothing to fold
                return False
            self._merge(index)
        finally:
            index.close()
        return True

    def _compaction_due(self) -> bool:
        journal = file_size(self.journal_path)
        if not journal:
            return False
        content = file_size(self.path)
        # Amortized: each compaction rewrites the content once per journal_ratio of its
        # size appended, so the cost per exported change does not grow with the directory.
        return content < self.journal_min_bytes or journal > self.journal_ratio * content

    def _recover(self, start: int) -> JournalScan:
        """Under the lock: read the committed journal after ``start`` (a batch boundary),
        finishing or undoing a compaction a crash interrupted and cutting a torn tail."""
        journal = journal_scan(self.journal_path, start)
        if journal.compacted is not None and journal.compacted == content_identity(self.path):
            # The content file already holds the journal: finish the compaction.
            unlink(self.journal_path)
            return JournalScan(folded=True)
        if journal.size > journal.end:
            # A torn batch (never committed) or the marker of a compaction that did not
            # replace the content file.
            _truncate_journal(self.journal_path, journal.end)
        return journal

    def _replay_units(self, journal: JournalScan) -> list[list[ChangeRecord]]:
        units: list[list[ChangeRecord]] = []
        for batch in journal.batches:
            for record in read_ldif(io.BytesIO(batch), binary_attributes=self.binary_attributes):
                assert not isinstance(record, ContentRecord)
                units.append([record])
        return units

    def _apply_rewriting(self, units: list[list[ChangeRecord]], index: bool = True
                         ) -> tuple[list[Outcome], list[bytes]]:
        """The whole file at once (no journal pending): load the named entries in one pass,
        apply, rewrite."""
        wanted: Counter[str] = Counter()
        for unit in units:
            wanted.update(keys_of(unit))
        run = Run(self._load(set(wanted)), wanted)
        outcomes = [self._changes.apply_unit(unit, run) for unit in units]
        if run.applied:
            self._rewrite(run, index)
        return outcomes, run.applied

    def _apply_journaled(self, units: list[list[ChangeRecord]]
                         ) -> tuple[list[Outcome], list[bytes]]:
        """Read the named entries through the index, append the applied records to the
        journal (the commit point), then update the index."""
        index = self._open_index()
        try:
            outcomes, run, places = self._run_indexed(index, units)
            if not run.applied:
                return outcomes, []
            inode, length = journal_append(self.journal_path, b"".join(run.applied))
            # Committed. The index is only a cache: if updating it fails, the next apply
            # finds it behind the journal and replays the tail.
            try:
                self._update_index(index, run, places, inode, length)
            except Exception:
                _log.warning("%s: index update failed", self.path, exc_info=True)
            return outcomes, run.applied
        finally:
            index.close()

    def _run_indexed(
        self, index: ContentIndex, units: list[list[ChangeRecord]],
    ) -> tuple[list[Outcome], Run, dict[str, tuple[int | None, int | None, int | None]]]:
        wanted: Counter[str] = Counter()
        for unit in units:
            wanted.update(keys_of(unit))
        state, places = self._load_indexed(index, set(wanted))
        run = Run(state, wanted)
        return [self._changes.apply_unit(unit, run) for unit in units], run, places

    def _update_index(self, index: ContentIndex, run: Run,
                      places: dict[str, tuple[int | None, int | None, int | None]],
                      inode: int, length: int) -> None:
        rows: list[Row] = []
        for origin, entry in run.by_origin.items():
            if entry is not None:
                # Keeps the place it comes from (content record or add order) under its
                # new key: compaction writes it there.
                offset, size, seq = places[origin]
                rows.append((normalize_dn(entry.dn), offset, size, entry_bytes(entry), seq))
        seq = index.next_seq()
        for entry in run.new_entries.values():  # in the order of their adds
            if entry is not None:
                rows.append((normalize_dn(entry.dn), None, None, entry_bytes(entry), seq))
                seq += 1
        index.update(run.by_origin.keys(), rows, content_identity(self.path), inode, length)

    def _open_index(self) -> ContentIndex:
        """The index, brought up to the committed journal: trusted only when it names this
        content file and a prefix of this journal; otherwise rebuilt from both. Only the
        journal bytes the index has not seen are read."""
        index = ContentIndex(self.index_path)
        try:
            meta = index.meta()
            trusted = (meta is not None and meta.version == INDEX_VERSION
                       and meta.base == content_identity(self.path)
                       and meta.journal_length <= file_size(self.journal_path)
                       and (meta.journal_length == 0
                            or meta.journal_inode == inode_of(self.journal_path)))
            start = meta.journal_length if trusted and meta is not None else 0
            journal = self._recover(start)
            if journal.folded or not trusted:
                journal = self._recover(0) if journal.folded else journal
                index.rebuild(self._scan_rows(), content_identity(self.path), 0, 0)
            if journal.batches:
                # Committed batches the index has not seen (a crash after the journal's
                # commit, before the index's; or a rebuild): replay them into the index.
                units = self._replay_units(journal)
                outcomes, run, places = self._run_indexed(index, units)
                for unit, outcome in zip(units, outcomes, strict=True):
                    if not outcome.ok:
                        # Only when the content file was edited by hand under a journal.
                        _log.warning("%s: journal record for %s no longer applies (%s)",
                                     self.path, unit[0].dn, outcome.error_detail)
                self._update_index(index, run, places, inode_of(self.journal_path),
                                   journal.end)
        except BaseException:
            index.close()
            raise
        return index

    def _scan_rows(self) -> Iterator[tuple[str, int, int]]:
        if not os.path.exists(self.path):
            return
        with open(self.path, "rb") as handle:
            for raw in iter_raw_records(handle):
                dn = raw_dn(raw)
                if dn is not None:
                    yield normalize_dn(dn), raw.start_offset, len(raw.raw)

    def _load_indexed(
        self, index: ContentIndex, wanted: set[str],
    ) -> tuple[dict[str, Entry], dict[str, tuple[int | None, int | None, int | None]]]:
        state: dict[str, Entry] = {}
        places: dict[str, tuple[int | None, int | None, int | None]] = {}
        if not wanted:
            return state, places
        found = index.lookup(wanted)
        # In file order: reads go forward through the content file.
        order = sorted(found.items(), key=lambda item: item[1].offset or -1)
        with open(self.path, "rb") as handle:
            fd = handle.fileno()
            for key, location in order:
                if location.image is not None:
                    data = location.image
                else:
                    assert location.offset is not None and location.length is not None
                    data = os.pread(fd, location.length, location.offset)
                entry = self._entry_from(RawRecord(data, 1, 0, len(data)), key,
                                         len(state))
                if entry is not None:
                    state[key] = entry
                    places[key] = (location.offset, location.length, location.seq)
        return state, places

    def _load(self, wanted: set[str]) -> dict[str, Entry]:
        state: dict[str, Entry] = {}
        if not wanted or not os.path.exists(self.path):
            return state
        with open(self.path, "rb") as handle:
            for raw in iter_raw_records(handle):
                dn = raw_dn(raw)
                if dn is None:
                    continue
                key = normalize_dn(dn)
                if key not in wanted:
                    continue
                entry = self._entry_from(raw, key, len(state), dn)
                if entry is not None:
                    state[key] = entry
        return state

    def _entry_from(self, raw: RawRecord, key: str, ident: int,
                    dn: str | None = None) -> Entry | None:
        if raw.raw[:3] == b"dn:":
            # Kept as bytes, parsed when a change reaches it.
            dn = dn if dn is not None else raw_dn(raw)
            assert dn is not None
            return Entry(dn, None, key, ident, raw.raw)
        if raw.lines and raw.lines[0][2].lower().startswith(b"version:"):
            # The version line shares the first entry's block (read_ldif drops it too);
            # parse_raw would refuse the record.
            raw.lines = raw.lines[1:]
        record = parse_raw(raw, binary_attributes=self.binary_attributes)
        if isinstance(record, ContentRecord):  # comments or a version line first
            return Entry(record.dn, record.attributes, key, ident)
        return None

    # --- rewriting --------------------------------------------------------------------

    def _rewrite(self, run: Run, index: bool = True) -> None:
        """Copy the content file with the run's changes into a new one and swap it in."""

        def write(out: BinaryIO, rows: list[tuple[str, int, int]]) -> int:
            position = 0
            if os.path.exists(self.path):
                with open(self.path, "rb") as source:
                    position = copy_with_changes(source, out, run.by_origin, rows)
            for entry in run.new_entries.values():
                if entry is not None:
                    position = write_entry(out, entry_bytes(entry), entry.dn, position, rows)
            return position

        replace_content(self, write, keep_index=index)

    def _merge(self, index: ContentIndex) -> None:
        """Compaction: the index knows every entry's place and current bytes, so the new
        content file is the old one's unchanged byte ranges, the changed entries' images in
        their place and the added ones at the end. No record is parsed but those around a
        deletion (comments there are kept)."""

        def write(out: BinaryIO, rows: list[tuple[str, int, int]]) -> int:
            with open(self.path, "rb") as source:
                merge = Merge(source, out, rows)
                for key, offset, length, image in index.in_file_order():
                    merge.record(key, offset, length, image)
                merge.finish()
                position = merge.position
            for key, image in index.added():
                position = write_entry(out, image, None, position, rows, key)
            return position

        replace_content(self, write, index)

    def read_record(self, dn: str) -> bytes | None:
        """The LDIF bytes of the entry at ``dn`` as the directory holds it now (its journal's
        changes included), or None when there is none: one object, for preview, not a bulk
        path. A large directory is read through its index (built by the first read if no
        export built it yet): the entry at its place, nothing rewritten; a small one is
        compacted (a few ms) and read whole."""
        key = normalize_dn(dn)
        with self.locked():
            if not os.path.exists(self.path):
                return None
            if (os.path.exists(self.index_path)
                    or file_size(self.path) >= self.journal_min_bytes):
                index = self._open_index()
                try:
                    state, _places = self._load_indexed(index, {key})
                finally:
                    index.close()
            else:
                self._compact_locked()
                state = self._load({key})
        entry = state.get(key)
        return entry_bytes(entry) if entry is not None else None

    def anchor_of(self, attributes: dict[str, list[Value]]) -> str | None:
        return self._changes.anchor_of(attributes)
