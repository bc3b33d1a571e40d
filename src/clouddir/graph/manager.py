"""A user's manager and direct reports on the Graph face: ``GET /users/{id}/manager``,
``PUT`` / ``DELETE /users/{id}/manager/$ref``, ``GET /users/{id}/directReports`` and
``$expand=manager``.

The link is one fact with two faces: the store's manager row (what Graph reads, both ways
indexed) and the user's ``manager`` attribute holding the manager's DN (what the sync API
imports and exports). A Graph write sets both; a sync API write sets the attribute and the
store links it by DN. A manager DN the sync API names before that object exists is resolved
when read (``managers_for``), so GET manager and ``$expand`` see it; directReports lists the
links. As in Graph, only cloud-born users' managers are written here (a synced user's is
mastered on premises).
"""

from __future__ import annotations

import re
from typing import Any

from clouddir.graph import admin
from clouddir.graph.model import GraphError, check_id, not_found, select, to_graph
from clouddir.graph.query import parse_select
from clouddir.service import Service
from clouddir.storage import OBJECT_CHANGED, DirObject, Store, Tenant

_EXPAND = re.compile(r"^\s*manager\s*(?:\(\s*\$select\s*=\s*(?P<select>[^()]*)\))?\s*$")


def no_manager(user_id: str) -> GraphError:
    return GraphError(404, "Request_ResourceNotFound",
                      "Resource 'manager' does not exist or one of its queried reference-"
                      "property objects are not present.")


def parse_expand(text: str | None, object_type: str) -> list[str] | None:
    """``$expand=manager`` or ``manager($select=a,b)`` on users: the manager's fields ([] for
    all); None: no expansion."""
    if text is None:
        return None
    if object_type != "user":
        return None  # other expansions are not modelled; Graph's default answer is kept
    match = _EXPAND.match(text) if len(text) <= 1024 else None
    if not match:
        raise GraphError(400, "BadRequest",
                         f"Parsing OData Select and Expand failed: only 'manager' (with an "
                         f"optional $select) can be expanded here, not '{text[:60]}'.")
    return parse_select(match.group("select")) or []


def managers_for(store: Store, tenant_id: str, users: list[DirObject]) -> dict[int, DirObject]:
    """user seq -> manager, for those of ``users`` that have one (a few queries per page)."""
    linked = store.managers_of(u.seq for u in users if u.object_type == "user")
    pending = {u.seq: u.attributes["manager"][0] for u in users
               if u.object_type == "user" and u.seq not in linked and u.attributes.get("manager")}
    if pending:
        by_dn = store.resolve_dns(tenant_id, pending.values())
        linked.update({seq: by_dn[dn.lower()] for seq, dn in pending.items()
                       if dn.lower() in by_dn})
    objects = store.get_many_by_seq(tenant_id, list(linked.values())) if linked else {}
    return {seq: objects[m] for seq, m in linked.items() if m in objects}


def expanded(obj: dict[str, Any], manager: DirObject | None,
             fields: list[str] | None) -> dict[str, Any]:
    if manager is not None and fields is not None:
        obj["manager"] = select(to_graph(manager), fields or None)
    return obj


def _user(service: Service, tenant: Tenant, user_id: str) -> DirObject:
    user = service.store.get(tenant.id, check_id(user_id))
    if user is None or user.object_type != "user":
        raise not_found(user_id)
    return user


def get_manager(service: Service, tenant: Tenant, user_id: str) -> DirObject:
    with service.store.reading():
        user = _user(service, tenant, user_id)
        manager = managers_for(service.store, tenant.id, [user]).get(user.seq)
    if manager is None:
        raise no_manager(user_id)
    return manager


def set_manager(service: Service, tenant: Tenant, user_id: str, body: Any) -> None:
    if not isinstance(body, dict) or "@odata.id" not in body:
        raise GraphError(400, "BadRequest", "Expected @odata.id in the request body.")
    manager_id = admin.id_from_odata(body["@odata.id"])  # malformed: a 400 before any 404
    store = service.store
    with store.transaction(tenant.id):
        user = admin.owned(service, tenant, "user", user_id)
        manager = store.get(tenant.id, manager_id)
        if manager is None:
            raise not_found(manager_id)
        if manager.object_type != "user":
            raise GraphError(400, "Request_BadRequest",
                             f"A manager is a user; '{manager_id}' is a {manager.object_type}.")
        if manager.seq == user.seq:
            raise GraphError(400, "Request_BadRequest", "A user cannot be their own manager.")
        admin.writing(service, tenant)
        store.set_manager_link(tenant.id, user.seq, manager.seq)
        user.attributes["manager"] = [manager.dn or manager.id]
        store.update(user)
        store.log(tenant.id, user.seq, OBJECT_CHANGED)


def remove_manager(service: Service, tenant: Tenant, user_id: str) -> None:
    store = service.store
    with store.transaction(tenant.id):
        user = admin.owned(service, tenant, "user", user_id)
        if store.manager_seq_of(user.seq) is None and not user.attributes.get("manager"):
            raise no_manager(user_id)
        admin.writing(service, tenant)
        store.set_manager_link(tenant.id, user.seq, None)
        user.attributes.pop("manager", None)
        store.update(user)
        store.log(tenant.id, user.seq, OBJECT_CHANGED)


def direct_reports(service: Service, tenant: Tenant, user_id: str, after: int,
                   top: int) -> tuple[list[DirObject], int | None]:
    """One page of the user's direct reports in seq order, and the next page's skiptoken."""
    store = service.store
    with store.reading():
        user = _user(service, tenant, user_id)
        seqs = store.page_reports(user.seq, after, top + 1)
        objects = store.get_many_by_seq(tenant.id, seqs[:top])
    page = [objects[s] for s in seqs[:top] if s in objects]
    return page, (seqs[top - 1] if len(seqs) > top else None)
