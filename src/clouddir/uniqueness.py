"""Uniqueness of userPrincipalName, proxyAddresses and mailNickname, with duplicate attribute
resiliency: a conflicting value never fails the object; it is quarantined (recorded with the
object that holds it), replaced where the attribute needs a value (UPN, mail nickname) or
dropped (a proxy address), reported as a warning, and released back to the object as soon as
the holder lets it go (the real service does that in an hourly job; here it is immediate)."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from clouddir.errors import ATTRIBUTE_VALUE_MUST_BE_UNIQUE
from clouddir.storage import OBJECT_CHANGED, DirObject, Quarantined, Store

#: attribute -> unique-value kind (the namespace in which values must be unique).
UNIQUE_ATTRIBUTES = {"userPrincipalName": "upn", "proxyAddresses": "proxy",
                     "mailNickname": "nick"}


@dataclass(slots=True)
class Context:
    store: Store
    tenant_id: str
    #: The tenant's initial domain, for quarantine UPNs (``<tenant>.onmicrosoft.com``).
    initial_domain: str


def initial_domain(tenant_name: str) -> str:
    slug = re.sub(r"[^a-z0-9]", "", tenant_name.lower()) or "tenant"
    return f"{slug}.onmicrosoft.com"


def _norm(value: str) -> str:
    # proxyAddresses compare case-insensitively, prefix included (SMTP: and smtp: collide).
    return value.lower()


def _replacement(ctx: Context, kind: str, value: str) -> str:
    """A free stand-in for a quarantined UPN or nickname."""
    while True:
        digits = f"{random.randrange(10_000):04d}"
        if kind == "upn":
            candidate = f"{value.split('@', 1)[0]}+{digits}@{ctx.initial_domain}"
        else:
            candidate = f"{value}{digits}"
        if ctx.store.unique_holder(ctx.tenant_id, kind, _norm(candidate)) is None:
            return candidate


def apply_unique(ctx: Context, obj: DirObject, attribute: str, desired: list[str],
                 new: bool = False) -> list[dict[str, object]]:
    """Set ``obj.attributes[attribute]`` from ``desired``, claiming each value or quarantining
    it. ``obj.seq`` must exist; ``new``: the object was just created (holds nothing yet).
    Returns the warnings to report."""
    kind = UNIQUE_ATTRIBUTES[attribute]
    store, tenant = ctx.store, ctx.tenant_id
    previous = {} if new else {q.value.lower(): q for q in store.quarantined_of(obj.seq)
                               if q.attribute == attribute}
    effective: list[str] = []
    kept: set[str] = set()
    warnings: list[dict[str, object]] = []
    for value in desired:
        norm = _norm(value)
        holder = store.unique_holder(tenant, kind, norm)
        if holder is None or holder == obj.seq:
            if holder is None:
                store.claim_unique(tenant, kind, norm, obj.seq)
            if norm in previous:
                store.unquarantine(obj.seq, attribute, previous[norm].value)
            kept.add(norm)
            effective.append(value)
            continue
        old = previous.get(norm)
        replacement = None
        if kind != "proxy":
            replacement = old.replacement if old and old.replacement else \
                _replacement(ctx, kind, value)
            rnorm = _norm(replacement)
            if store.unique_holder(tenant, kind, rnorm) is None:
                store.claim_unique(tenant, kind, rnorm, obj.seq)
            kept.add(rnorm)
            effective.append(replacement)
        store.quarantine(tenant, Quarantined(obj.seq, kind, attribute, value, replacement,
                                             holder))
        warnings.append({"code": ATTRIBUTE_VALUE_MUST_BE_UNIQUE, "attribute": attribute,
                         "value": value, "replacement": replacement,
                         "conflicting_object_id": _id_of(ctx, holder)})
    desired_norms = {_norm(v) for v in desired}
    for q in previous.values():
        if q.value.lower() not in desired_norms:
            store.unquarantine(obj.seq, attribute, q.value)
    if not new:
        for k, norm in store.unique_values_of(obj.seq):
            if k == kind and norm not in kept:
                release(ctx, kind, norm)
    if effective:
        obj.attributes[attribute] = effective
    else:
        obj.attributes.pop(attribute, None)
    return warnings


def release_all(ctx: Context, obj: DirObject) -> None:
    """Let go of every value the object holds (it is being deleted)."""
    for kind, norm in ctx.store.unique_values_of(obj.seq):
        release(ctx, kind, norm, exclude=obj.seq)


def release(ctx: Context, kind: str, norm: str, exclude: int | None = None) -> None:
    """Free one value and hand it to the first object that has it quarantined."""
    store, tenant = ctx.store, ctx.tenant_id
    store.release_unique(tenant, kind, norm)
    for q in store.quarantined_waiting_for(tenant, kind, norm):
        if q.object_seq == exclude:
            continue
        waiter = store.get_by_seq(tenant, q.object_seq)
        if waiter is None:
            continue
        values = list(waiter.attributes.get(q.attribute, []))
        if q.replacement is not None:
            values = [q.value if v == q.replacement else v for v in values]
            store.release_unique(tenant, kind, _norm(q.replacement))
        else:
            values.append(q.value)
        waiter.attributes[q.attribute] = values
        store.claim_unique(tenant, kind, norm, waiter.seq)
        store.unquarantine(waiter.seq, q.attribute, q.value)
        store.update(waiter)
        store.log(tenant, waiter.seq, OBJECT_CHANGED)
        return


def provisioning_errors(ctx: Context, obj: DirObject,
                        quarantined: list[Quarantined] | None = None) -> list[dict[str, object]]:
    """The object's quarantined values (``quarantined``: already read, else read here)."""
    if quarantined is None:
        quarantined = ctx.store.quarantined_of(obj.seq)
    return [{"attribute": q.attribute, "value": q.value, "replacement": q.replacement,
             "conflicting_object_id": _id_of(ctx, q.conflicting_seq)}
            for q in quarantined]


def _id_of(ctx: Context, seq: int) -> str | None:
    holder = ctx.store.get_by_seq(ctx.tenant_id, seq)
    return holder.id if holder else None


def primary_smtp(attributes: dict[str, list[str]]) -> str | None:
    for value in attributes.get("proxyAddresses", []):
        if value.startswith("SMTP:"):
            return value
    return None


def prefetch_batch(ctx: Context, changes: list[dict[str, Any]]) -> None:
    """Ask the store up front about the anchors and unique values a batch names (what hard
    matching, soft matching and ``apply_unique`` will look up), in two queries."""
    anchors: list[str] = []
    unique: set[tuple[str, str]] = set()
    for change in changes:
        if not isinstance(change, dict):
            continue
        if isinstance(change.get("source_anchor"), str):
            anchors.append(change["source_anchor"])
        for part in ("attributes", "value_adds"):
            values = change.get(part)
            if not isinstance(values, dict):
                continue
            for attribute, kind in UNIQUE_ATTRIBUTES.items():
                named = values.get(attribute)
                if isinstance(named, list):
                    unique.update((kind, _norm(v)) for v in named if isinstance(v, str))
    adds = sum(1 for change in changes if isinstance(change, dict) and change.get("op") == "add")
    ctx.store.prefetch(ctx.tenant_id, anchors, unique, new_objects=adds)


def holder_of(ctx: Context, attribute: str, value: str) -> int | None:
    return ctx.store.unique_holder(ctx.tenant_id, UNIQUE_ATTRIBUTES[attribute], _norm(value))
