"""Rule editing as administrators do it: an editable copy of a reserved rule and targeted
edits, validated before they are saved.

Every change goes through ``rule_changes.save_rules`` (validation, reserved-rule guard, full
synchronization required on the rule's connector).
"""

from __future__ import annotations

import copy as _copy
import hashlib
import json

from idsync.administration.audit import AuditAction, changed_fields, record_change
from idsync.administration.rule_changes import save_rules
from idsync.errors import ConfigurationError
from idsync.rules.edits import (
    CUSTOM_PRECEDENCE,
    RuleEdit,
    apply_edit,
    copy_name,
    precedence_ranges,
)
from idsync.rules.model import SyncRule
from idsync.store import Store

# --- copy ------------------------------------------------------------------------------------

def precedence_owner(store: Store, precedence: int, *, ignore: str | None = None) -> str | None:
    """The rule already holding ``precedence``, if any (precedences are unique, as in Azure AD
    Connect: the number alone orders the rules)."""
    for rule in store.rules.list():
        if rule.precedence == precedence and rule.name != ignore:
            return rule.name
    return None


def free_custom_precedences(store: Store) -> list[int]:
    taken = {r.precedence for r in store.rules.list()}
    return [p for p in CUSTOM_PRECEDENCE if p not in taken]


def copy_rule(store: Store, name: str, precedence: int, new_name: str | None = None
              ) -> SyncRule:
    """Disable ``name`` and save an editable (not reserved) copy of it at ``precedence``
    (1-99), in one transaction. Returns the copy."""
    original = store.rules.get(name)
    if precedence not in CUSTOM_PRECEDENCE:
        raise ConfigurationError(
            f"precedence {precedence}: an editable copy takes a precedence between 1 and 99")
    owner = precedence_owner(store, precedence)
    if owner is not None:
        raise ConfigurationError(f"precedence {precedence} is taken by rule {owner!r}; free "
                                 f"ones: {precedence_ranges(free_custom_precedences(store))}")
    target = new_name or copy_name(name)
    if store.rules.find(target) is not None:
        raise ConfigurationError(f"a rule named {target!r} exists already; pass --name")
    duplicate = _copy.deepcopy(original)
    duplicate.id = None
    duplicate.name = target
    duplicate.precedence = precedence
    duplicate.reserved = False
    duplicate.disabled = False
    duplicate.tag = None
    duplicate.description = (f"Editable copy of {name!r}. " + original.description).strip()
    original.disabled = True
    with store.transaction():
        saved = save_rules(store, [original, duplicate], audit=False)
        _hand_over_links(store, original, saved[1])
        record_change(store, AuditAction.RULE_COPY, name, {"disabled": False},
                      {"disabled": True, "copy": target, "precedence": precedence})
    return saved[1]


def _hand_over_links(store: Store, original: SyncRule, copy: SyncRule) -> None:
    """Objects joined or projected by ``original`` count as linked by ``copy``: an inbound
    link whose rule is gone is a disconnect, and disconnecting every user because their join
    rule was copied would delete and recreate the whole metaverse (and the cloud objects)."""
    store.rule_objects.hand_over_links(original.id, copy.id)


def edit_rule(store: Store, name: str, edit: RuleEdit) -> SyncRule:
    """Apply ``edit`` to rule ``name`` and save it: refused for reserved rules (make a copy),
    validated before anything is written, and the connector needs a full synchronization."""
    rule = store.rules.get(name)
    if rule.reserved:
        raise ConfigurationError(
            f"sync rule {name!r} is reserved (out-of-box): it can be disabled but not edited. "
            f"Make an editable copy with `idsync rules copy {name!r}`.")
    if edit.is_empty():
        raise ConfigurationError("nothing to change: give at least one change option")
    changed = apply_edit(rule, edit)
    if edit.precedence is not None:
        owner = precedence_owner(store, edit.precedence, ignore=name)
        if owner is not None:
            raise ConfigurationError(f"precedence {edit.precedence} is taken by rule {owner!r}")
    old, new = changed_fields(rule.to_dict(), changed.to_dict())
    if changed.name != name:
        if store.rules.find(changed.name) is not None:
            raise ConfigurationError(f"a rule named {changed.name!r} exists already")
        changed.id = None
        with store.transaction():
            saved = save_rules(store, [changed], audit=False)[0]
            _hand_over_links(store, rule, saved)
            store.rules.delete(name)
            record_change(store, AuditAction.RULE_EDIT, name, old, new)
        return saved
    with store.transaction():
        saved = save_rules(store, [changed], audit=False)[0]
        record_change(store, AuditAction.RULE_EDIT, name, old, new)
    return saved


# --- the rules editor's form ------------------------------------------------------------------

def rule_fingerprint(rule: SyncRule) -> str:
    """A short digest of everything a rule holds: a form carries it, and a save whose
    fingerprint no longer matches the stored rule is refused (someone changed it meanwhile)."""
    text = json.dumps(rule.to_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def edit_rule_unless_stale(store: Store, name: str, edit: RuleEdit, fingerprint: str
                           ) -> SyncRule:
    """``edit_rule``, refused when the stored rule no longer has ``fingerprint``: the form
    was made from an older version and saving it would silently undo the other change. The
    check and the save share one transaction (one writer at a time), so nothing slips in
    between."""
    with store.transaction():
        current = store.rules.get(name)
        if rule_fingerprint(current) != fingerprint:
            raise ConfigurationError(
                f"sync rule {name!r} changed since this form was opened (by another "
                "administrator or the command line): nothing was saved. Reload the rule and "
                "make the change again.")
        return edit_rule(store, name, edit)


def free_copy_name(store: Store, name: str) -> str:
    """``NAME (copy)``, or ``NAME (copy 2)``... when an earlier copy keeps that name."""
    candidate, n = copy_name(name), 2
    while store.rules.find(candidate) is not None:
        candidate, n = f"{name} (copy {n})", n + 1
    return candidate


def copy_for_editing(store: Store, name: str) -> SyncRule:
    """The editor's "Yes" to "disable the reserved rule and create an editable copy": the
    copy takes the highest free custom precedence (the CLI's default answer) and a free
    name; the administrator then picks the precedence in the copy's editor."""
    free = free_custom_precedences(store)
    if not free:
        raise ConfigurationError("no free precedence between 1 and 99 for an editable copy: "
                                 "delete or renumber a custom rule first")
    return copy_rule(store, name, free[-1], free_copy_name(store, name))
