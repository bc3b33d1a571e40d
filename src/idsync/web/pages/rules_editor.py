"""Editing a sync rule in the browser, through the same operations as ``idsync rules
copy|edit``: Edit on a reserved (out-of-box) rule asks to disable it and create an editable
copy; the copy's editor offers the free precedences; expressions are checked as they are
typed; a form made from an older version of the rule is refused; saving marks a full
synchronization required on the rule's connector (the operation does) and the page says so."""

from __future__ import annotations

import secrets

from starlette.responses import Response
from starlette.routing import Route

from idsync.administration.rule_changes import delete_rule, set_disabled
from idsync.administration.rule_editing import (
    copy_for_editing,
    edit_rule_unless_stale,
    free_custom_precedences,
    rule_fingerprint,
)
from idsync.expressions import (
    ExpressionError,
    ExpressionSyntaxError,
    ExpressionValidationError,
    compile_expression,
)
from idsync.rules.edits import precedence_ranges
from idsync.rules.model import FlowType, MergeType, ScopeOperator, SyncRule
from idsync.store import Store
from idsync.web.pages import rules_form
from idsync.web.requests import UiRequest, action, view


def precedence_choices(store: Store, rule: SyncRule) -> list[int]:
    """The free custom precedences (1-99) and the rule's own."""
    return sorted({*free_custom_precedences(store), rule.precedence})


def edit_page(ui: UiRequest) -> Response:
    rule = rules_form.rule_by_id(ui.store, str(ui.params["rule_id"]))
    if rule.reserved:
        return ui.render("rules_confirm_copy.html", rule=rule)
    free = free_custom_precedences(ui.store)
    connector = ui.store.connectors.find(rule.connector)
    return ui.render(
        "rules_editor.html", rule=rule, fingerprint=rule_fingerprint(rule),
        precedences=precedence_choices(ui.store, rule), free_ranges=precedence_ranges(free),
        operators=[o.value for o in ScopeOperator], flow_types=[f.value for f in FlowType],
        merge_types=[m.value for m in MergeType],
        full_sync_required=bool(connector and connector.full_sync_required))


def copy_reserved(ui: UiRequest) -> Response:
    """"Yes": the reserved rule is disabled and an editable copy made, in one transaction
    (``idsync rules copy``); its editor opens."""
    rule = rules_form.rule_by_id(ui.store, str(ui.params["rule_id"]))
    copy = copy_for_editing(ui.store, rule.name)
    return ui.redirect(
        f"/rules/{copy.id}/edit",
        msg=f"{rule.name!r} disabled; editable copy {copy.name!r} created at precedence "
            f"{copy.precedence} (the highest free one): choose its precedence below.")


def save_rule(ui: UiRequest) -> Response:
    rule = rules_form.rule_by_id(ui.store, str(ui.params["rule_id"]))
    edit = rules_form.edit_from_form(rule, ui.form, ui.form_lists)
    if edit.is_empty():
        return ui.redirect(f"/rules/{rule.id}", msg="Nothing changed: the rule is as it was.")
    saved = edit_rule_unless_stale(ui.store, rule.name, edit,
                                   str(ui.form.get("fingerprint", "")))
    return ui.redirect(
        f"/rules/{saved.id}",
        msg=f"Rule {saved.name!r} saved; full synchronization required on {saved.connector}: "
            "the next sync cycle runs a full synchronization there.")


def enable_rule(ui: UiRequest) -> Response:
    return _set_enabled(ui, True)


def disable_rule(ui: UiRequest) -> Response:
    return _set_enabled(ui, False)


def _set_enabled(ui: UiRequest, enabled: bool) -> Response:
    """``idsync rules enable|disable``: out-of-box rules too (the v2 document's rollback
    enables the default copy again)."""
    rule = rules_form.rule_by_id(ui.store, str(ui.params["rule_id"]))
    set_disabled(ui.store, rule.name, not enabled)
    return ui.redirect(f"/rules/{rule.id}",
                       msg=f"Rule {rule.name!r} {'enabled' if enabled else 'disabled'}; full "
                           f"synchronization required on {rule.connector}.")


def remove_rule(ui: UiRequest) -> Response:
    """``idsync rules delete``: custom rules only (an out-of-box one is disabled instead)."""
    rule = rules_form.rule_by_id(ui.store, str(ui.params["rule_id"]))
    delete_rule(ui.store, rule.name)
    return ui.redirect("/rules", direction=rule.direction.value,
                       msg=f"Rule {rule.name!r} deleted; full synchronization required on "
                           f"{rule.connector}.")


def editor_row(ui: UiRequest) -> Response:
    """One more empty row for a section of the editor ("Add a clause"...), appended by htmx;
    its ids are random so its labels stay unique on the page."""
    section = ui.query.get("section", "t")
    group = ui.query.get("group", "1")
    return ui.render("rules_editor_row.html",
                     section=section if section in ("s", "j", "t") else "t",
                     row_id="n" + secrets.token_hex(4),
                     group=int(group) if group.isdigit() else 1,
                     operators=[o.value for o in ScopeOperator],
                     flow_types=[f.value for f in FlowType],
                     merge_types=[m.value for m in MergeType])


def check_expression(ui: UiRequest) -> Response:
    """The server's own parse and compile of one transformation's source, as it is typed."""
    flow = ui.query.get("t_flow", FlowType.EXPRESSION.value)
    source = ui.query.get("t_source", "")
    if flow != FlowType.EXPRESSION.value or not source.strip():
        return ui.render("rules_check.html", ok=None, text="", excerpt="", reads=[])
    try:
        compiled = compile_expression(source)
    except (ExpressionSyntaxError, ExpressionValidationError) as exc:
        # The error's own first line (kind, line, column, message) and its caret excerpt.
        first, _, excerpt = str(exc).partition("\n")
        return ui.render("rules_check.html", ok=False, text=first, excerpt=excerpt, reads=[])
    except ExpressionError as exc:
        return ui.render("rules_check.html", ok=False, text=str(exc), excerpt="", reads=[])
    return ui.render("rules_check.html", ok=True, text="Expression compiles.",
                     excerpt="", reads=sorted(compiled.attributes))


routes = [
    Route("/rules/check-expression", view(check_expression)),
    Route("/rules/editor-row", view(editor_row)),
    Route("/rules/{rule_id}/edit", view(edit_page)),
    Route("/rules/{rule_id}/copy", action(copy_reserved), methods=["POST"]),
    Route("/rules/{rule_id}/save", action(save_rule), methods=["POST"]),
    Route("/rules/{rule_id}/enable", action(enable_rule), methods=["POST"]),
    Route("/rules/{rule_id}/disable", action(disable_rule), methods=["POST"]),
    Route("/rules/{rule_id}/delete", action(remove_rule), methods=["POST"]),
]
