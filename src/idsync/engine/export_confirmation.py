"""Export confirmation: an import is the proof of an export. Confirmed changes are dropped,
changes the directory does not show are put back to be sent again."""

from __future__ import annotations

from idsync.dn import normalize_dn
from idsync.engine.hologram_values import same
from idsync.engine.recorder import RunRecorder
from idsync.model import CSObject, ExportKind, ExportState, PendingExport
from idsync.store import Store


def confirm_exports(store: Store, recorder: RunRecorder, staged: dict[int, CSObject]) -> None:
    """Confirm the exports of the objects a batch staged, compared with the objects as the
    batch staged them (no second load)."""
    if not staged:
        return
    pending = store.exports.get_many(list(staged), with_refs=False)
    waiting = {i: pe for i, pe in pending.items() if pe.state == ExportState.EXPORTED}
    if not waiting:
        return
    # Reference values are compared in the store (one query): an exported member list
    # is not loaded to learn that the import shows it.
    refs_missing = store.cs_refs.exported_refs_not_shown(list(waiting))
    confirmed: list[int] = []
    unconfirmed: list[int] = []
    for cs_id, pe in waiting.items():
        if cs_id not in refs_missing and reflected(pe, staged[cs_id]):
            confirmed.append(cs_id)
        else:
            unconfirmed.append(cs_id)
    store.exports.drop_many(confirmed)
    store.exports.set_state(unconfirmed, ExportState.PENDING)
    recorder.count("exports-confirmed", len(confirmed))
    recorder.count("exports-unconfirmed", len(unconfirmed))


def reflected(pe: PendingExport, cs: CSObject) -> bool:
    """The object as imported shows the export's attribute changes (references are compared
    in the store)."""
    if pe.kind == ExportKind.DELETE:
        return False
    if (pe.kind == ExportKind.RENAME and pe.new_dn
            and normalize_dn(pe.new_dn) != normalize_dn(cs.dn)):
        return False
    return all(same(cs.attributes.get(name), vals) for name, vals in pe.attributes.items())
