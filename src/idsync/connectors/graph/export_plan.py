"""Planning a Graph export: each ``ExportChange`` becomes Graph JSON batch items, and items
are packed into ``$batch`` requests (pure: no I/O, so it is tested on its own).

* ADD: ``POST /users`` (with a ``passwordProfile``, filled in when the request is built) or
  ``POST /groups`` carrying up to 20 ``members@odata.bind``; the rest of the members, and a new
  user's manager, need the new id, so they wait for the create's answer (a later batch).
* MODIFY / RENAME: a ``PATCH`` of the changed properties (an empty list: ``null``), member adds
  as ``PATCH`` with at most 20 ``members@odata.bind``, each member removal as
  ``DELETE /groups/{id}/members/{member}/$ref``, the manager as ``PUT`` or ``DELETE`` of
  ``manager/$ref``. A whole member list is never a replace: its values are added (an add of a
  member already there counts as done); removals come as ``value_removes`` only.
* DELETE: ``DELETE /users/{id}`` or ``/groups/{id}``.

A reference is written by its anchor (the Graph id); one whose target has no anchor yet is not
sent (``ChangePlan.pending``), and the change fails retryable once the rest is sent.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from idsync.connectors.base import ExportChange, ExportRef, ExportValue
from idsync.error_codes import ErrorCode
from idsync.model import ExportKind

#: Graph JSON batching: at most 20 requests per ``$batch``.
MAX_BATCH = 20
#: Graph: at most 20 ``members@odata.bind`` values per request.
MAX_BINDS = 20
MEMBERS = "members"
MANAGER = "manager"
REFERENCES = frozenset({MEMBERS, MANAGER})
COLLECTIONS = {"user": "users", "group": "groups"}
OUS = {"user": "Users", "group": "Groups"}
#: Properties the CS holds as "true" / "false" strings and Graph as JSON booleans.
BOOLEANS = frozenset({"accountEnabled", "securityEnabled", "mailEnabled"})
#: Multi-valued properties: sent as JSON lists.
LISTS = frozenset({"groupTypes", "proxyAddresses"})


class Step(StrEnum):
    """What one batch item does, which decides how its answer is read."""

    CREATE = "create"
    UPDATE = "update attributes"
    BIND = "add members"
    MEMBER_REF = "add member"  # one member by POST .../members/$ref (after a refused bind)
    UNBIND = "remove member"
    SET_MANAGER = "set manager"
    CLEAR_MANAGER = "clear manager"
    DELETE = "delete"


@dataclass(slots=True)
class Item:
    """One Graph request of a change, before it gets a batch id."""

    step: Step
    method: str
    #: The path after ``/{collection}/{id}`` (``""`` for the object itself); None: the
    #: collection itself (a create).
    suffix: str | None
    body: dict[str, Any] | None = field(default=None, repr=False)
    #: Member references the item carries (binds, or 1 for a removal).
    members: int = 0
    #: Needs the id of the object its change creates: sent after the create answers.
    after_create: bool = False
    #: A new user's ``passwordProfile`` is added to the body when the request is built.
    password: bool = False
    #: Sent again after a 424 whose cause was not a failure (``export``).
    attempts: int = 0

    @property
    def label(self) -> str:
        """What the request does, for an export error's detail (which member, how many)."""
        if self.step is Step.UNBIND and self.suffix:
            return f"{self.step.value} {self.suffix.split('/')[2]}"
        target = (self.body or {}).get("@odata.id")
        if isinstance(target, str):
            return f"{self.step.value} {target.rsplit('/', 1)[-1]}"
        if self.step is Step.BIND:
            return f"add {self.members} members"
        return self.step.value

    @property
    def head(self) -> bool:
        """The create or attribute update: the change's other requests come after it."""
        return self.step in (Step.CREATE, Step.UPDATE)


@dataclass(slots=True)
class ChangePlan:
    change: ExportChange
    items: list[Item] = field(default_factory=list)
    #: DNs of references not sent: their targets have no anchor yet.
    pending: list[str] = field(default_factory=list)
    #: The change cannot be sent at all: (code, detail).
    refused: tuple[str, str] | None = None
    #: The change needs nothing sent (a delete of an object never created).
    nothing: bool = False

    @property
    def collection(self) -> str:
        return COLLECTIONS[self.change.object_type]


def dn_of(object_type: str, object_id: str) -> str:
    """The DN of a Graph object: its id under the type's OU (imports give the same DN)."""
    return f"CN={object_id},OU={OUS[object_type]}"


def odata_id(graph_url: str, object_id: str) -> str:
    return f"{graph_url.rstrip('/')}/directoryObjects/{object_id}"


def _text(value: ExportValue) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, ExportRef):
        return value.anchor or value.dn
    return value


def graph_value(name: str, values: Sequence[ExportValue]) -> Any:
    """A CS attribute's values as Graph's JSON property value (an empty list: null)."""
    if not values:
        return None
    if name in LISTS:
        return [_text(v) for v in values]
    text = _text(values[0])
    if name in BOOLEANS and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text  # a non-boolean string is sent as is: Graph refuses it with its own message


def _properties(attributes: dict[str, list[ExportValue]], *, create: bool) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, values in attributes.items():
        if name in REFERENCES:
            continue
        if create and not values:
            continue  # nothing to clear on a new object
        body[name] = graph_value(name, values)
    return body


def _anchors(values: Sequence[ExportValue], pending: list[str]) -> list[str]:
    """The Graph ids of reference values; those without one go to ``pending``."""
    found: list[str] = []
    for value in values:
        if isinstance(value, ExportRef):
            if value.anchor:
                found.append(value.anchor)
            else:
                pending.append(value.dn)
        else:
            found.append(_text(value))  # already an id
    return list(dict.fromkeys(found))


def _bind_items(graph_url: str, ids: Sequence[str], *, after_create: bool) -> list[Item]:
    return [Item(Step.BIND, "PATCH", "",
                 {"members@odata.bind": [odata_id(graph_url, m) for m in ids[i:i + MAX_BINDS]]},
                 members=len(ids[i:i + MAX_BINDS]), after_create=after_create)
            for i in range(0, len(ids), MAX_BINDS)]


def member_ref_items(graph_url: str, bind: Item) -> list[Item]:
    """A refused bind's members one by one (``POST .../members/$ref``), so that one member
    already there does not keep the others out."""
    binds = (bind.body or {}).get("members@odata.bind") or []
    return [Item(Step.MEMBER_REF, "POST", "/members/$ref", {"@odata.id": ref}, members=1)
            for ref in binds]


def _manager_items(graph_url: str, change: ExportChange, pending: list[str], *,
                   after_create: bool) -> list[Item]:
    wanted = change.value_adds.get(MANAGER) or change.attributes.get(MANAGER)
    if wanted:
        ids = _anchors(wanted[:1], pending)
        return [Item(Step.SET_MANAGER, "PUT", "/manager/$ref",
                     {"@odata.id": odata_id(graph_url, ids[0])}, after_create=after_create)
                ] if ids else []
    cleared = MANAGER in change.value_removes or change.attributes.get(MANAGER) == []
    if cleared and change.kind is not ExportKind.ADD:
        return [Item(Step.CLEAR_MANAGER, "DELETE", "/manager/$ref")]
    return []


def plan_change(change: ExportChange, graph_url: str) -> ChangePlan:
    """The Graph requests of one change, the change's head (create or update) first."""
    plan = ChangePlan(change)
    if change.object_type not in COLLECTIONS:
        plan.refused = (ErrorCode.GRAPH_OBJECT_TYPE_UNSUPPORTED,
                        f"the graph connector exports users and groups, not "
                        f"{change.object_type!r}")
        return plan
    if change.kind is ExportKind.DELETE:
        if change.anchor is None:
            plan.nothing = True  # never created in Graph, so nothing to delete
        else:
            plan.items.append(Item(Step.DELETE, "DELETE", ""))
        return plan
    adding = change.kind is ExportKind.ADD
    if not adding and change.anchor is None:
        plan.refused = (ErrorCode.GRAPH_NO_ANCHOR,
                        "the object has no Graph id yet, so it cannot be updated; an import "
                        "of the connector finds it")
        return plan
    body = _properties(change.attributes, create=adding)
    pending = plan.pending
    members = _anchors([*change.attributes.get(MEMBERS, []),
                        *change.value_adds.get(MEMBERS, [])], pending)
    adds = set(members)  # a value both added and removed: the add wins (it is the newer)
    removes = [m for m in _anchors(change.value_removes.get(MEMBERS, []), pending)
               if m not in adds]
    if adding:
        if change.object_type == "group" and members:
            body["members@odata.bind"] = [odata_id(graph_url, m) for m in members[:MAX_BINDS]]
            members = members[MAX_BINDS:]
        plan.items.append(Item(Step.CREATE, "POST", None, body,
                               members=len(body.get("members@odata.bind", [])),
                               password=change.object_type == "user"))
    elif body:
        plan.items.append(Item(Step.UPDATE, "PATCH", "", body))
    if change.object_type == "group":
        plan.items += _bind_items(graph_url, members, after_create=adding)
        plan.items += [Item(Step.UNBIND, "DELETE", f"/members/{m}/$ref", members=1)
                       for m in removes]
    else:
        plan.items += _manager_items(graph_url, change, pending, after_create=adding)
    return plan


def depends_on(batch: Sequence[tuple[object, Item]]) -> list[str | None]:
    """For each entry of a batch (its change's key and its item, ids ``1..n`` in order), the
    id of the earlier entry it must wait for: its change's head when that is in the same
    batch. Only the head orders: member requests of one object need no order among
    themselves, and chaining them would let one idempotent 404 fail the rest with 424."""
    heads: dict[int, str] = {}
    out: list[str | None] = []
    for index, (key, item) in enumerate(batch, start=1):
        if item.head:
            heads[id(key)] = str(index)
            out.append(None)
        else:
            out.append(heads.get(id(key)))
    return out
