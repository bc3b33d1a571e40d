"""The per-group member removal limit: an export that would remove more than a share of one
group's members (a scoping or filter mistake that empties a group) holds that group's export,
as an export error on the group, until an administrator allows it once.

The default stops removals of more than 50% of the members of a group holding at least 20:
a small team's list legitimately halves (2 of 4 leave), a 20-member group losing 11 at once is
rare enough to ask. The counts are the store's: the removes of the pending export against the
values the connector space's object holds now, counted in SQL, never a whole list read.
"""

from __future__ import annotations

from dataclasses import dataclass

from idsync.engine.recorder import RunRecorder
from idsync.engine.share_limits import ShareLimit, ShareLimitSetting
from idsync.error_codes import ErrorCode
from idsync.errors import ConfigurationError
from idsync.events import EventId
from idsync.model import ConnectorRecord, CSObject, PendingExport
from idsync.store import Store

DEFAULT_PERCENT = 50.0
DEFAULT_MIN_MEMBERS = 20
LIMITS_KEY = "member_removal_limits"  # {connector | "*": {percent, min_members} | {off}}


def allowed_key(connector: str) -> str:
    # One key per connector: two connectors' exports never rewrite each other's allowances.
    return f"member_removals_allowed.{connector}"


#: The limit's setting; ``ShareLimit.minimum`` is the smallest list it applies to.
SETTING = ShareLimitSetting(LIMITS_KEY, ShareLimit(DEFAULT_PERCENT, DEFAULT_MIN_MEMBERS,
                                                   "min_members"))
limit_of = SETTING.limit_of


@dataclass(frozen=True)
class HeldRemoval:
    cs_id: int
    attribute: str
    removes: int
    members: int

    def detail(self, limit: ShareLimit, connector: str, dn: str) -> str:
        return (f"the export would remove {self.removes} of the {self.members} values of "
                f"{self.attribute} ({self.removes * 100 / self.members:.0f}%, limit "
                f"{limit.percent:g}% of lists of at least {limit.minimum}); check the "
                f"scoping and filters, then allow it once: idsync exports "
                f"allow-member-removals {connector} '{dn}'")


def allow_once(store: Store, record: ConnectorRecord, cs_id: int, dn: str) -> None:
    """Allow a held group's removals for the next export run only: an allowance that run
    does not use is forgotten at its end, so it never lets a later mass removal through."""
    if not store.guards.has_error(cs_id, "export", ErrorCode.MEMBER_REMOVAL_LIMIT):
        raise ConfigurationError(
            f"the export of {dn} is not held by the member removal limit; nothing to allow")
    allowed = set(store.settings.get(allowed_key(record.name)) or [])
    allowed.add(cs_id)
    store.settings.set(allowed_key(record.name), sorted(allowed))


def held_removals(store: Store, record: ConnectorRecord,
                  pending: dict[int, PendingExport]) -> list[HeldRemoval]:
    """The exports of a batch over the limit and not allowed: each is held; an allowance is
    spent by the export it lets through."""
    limit = limit_of(store, record.name)
    if limit is None:
        return []
    # Fewer removes than the share of the smallest list counted cannot be over the limit:
    # most exports are never counted.
    candidates = {cs_id: pe for cs_id, pe in pending.items()
                  if pe.kind != "delete" and any(
                      len(ts) * 100 > limit.percent * limit.minimum
                      for ts in pe.ref_removes.values())}
    if not candidates:
        return []
    attrs = sorted({a for pe in candidates.values() for a in pe.ref_removes})
    sizes = store.guards.list_sizes(list(candidates), attrs)
    over: list[HeldRemoval] = []
    for cs_id, pe in candidates.items():
        for attr, targets in sorted(pe.ref_removes.items()):
            members = sizes.get((cs_id, attr), 0)
            if limit.exceeded(len(targets), members):
                over.append(HeldRemoval(cs_id, attr, len(targets), members))
                break
    if not over:
        return []
    allowed = set(store.settings.get(allowed_key(record.name)) or [])
    spent = {h.cs_id for h in over} & allowed
    if spent:
        with store.transaction():
            store.settings.set(allowed_key(record.name), sorted(allowed - spent))
    return [h for h in over if h.cs_id not in spent]


def forget_allowances(store: Store, record: ConnectorRecord) -> None:
    """The end of an export run: allowances it did not use go."""
    if store.settings.get(allowed_key(record.name)):
        with store.transaction():
            store.settings.set(allowed_key(record.name), [])


def hold_member_removals(store: Store, record: ConnectorRecord, recorder: RunRecorder,
                         pending: dict[int, PendingExport], objs: dict[int, CSObject]) -> set[int]:
    """The export's hook: the ids of a batch's objects whose export is held, each recorded as
    an export error on the object and an event; the rest of the run goes on."""
    held = held_removals(store, record, pending)
    if not held:
        return set()
    limit = limit_of(store, record.name)
    assert limit is not None
    with store.transaction():
        for h in held:
            dn = objs[h.cs_id].dn if h.cs_id in objs else str(h.cs_id)
            detail = h.detail(limit, record.name, dn)
            recorder.object_error(h.cs_id, dn, "export", ErrorCode.MEMBER_REMOVAL_LIMIT, detail)
            recorder.event(EventId.MEMBER_REMOVAL_HELD, f"export of {dn} held: {detail}",
                           {"cs_id": h.cs_id, "attribute": h.attribute, "removes": h.removes,
                            "members": h.members, **limit.to_dict()})
    return {h.cs_id for h in held}
