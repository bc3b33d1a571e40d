"""The rules editor's logic without a browser: the form read into an edit, the list's paging
and filters, the editable copy's name and precedence, and the stale-form check."""

from __future__ import annotations

import pytest

from idsync.administration.rule_dry_run import dry_run
from idsync.administration.rule_editing import (
    copy_for_editing,
    edit_rule_unless_stale,
    rule_fingerprint,
)
from idsync.errors import ConfigurationError
from idsync.model import Direction, LinkType
from idsync.rules.edits import RuleEdit
from idsync.rules.model import FlowType, ScopeOperator, SyncRule, Transformation
from idsync.web.pages.rules import RuleFilters, rules_page_of
from idsync.web.pages.rules_form import edit_from_form

USER_RULE = "In from source - User Join"


def _form_of(rule) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    """The form the editor renders for ``rule``, submitted unchanged (with its blank rows)."""
    clauses = [(str(n), c) for n, g in enumerate(rule.scoping, 1) for c in g.clauses]
    conditions = [(str(n), c) for n, g in enumerate(rule.join, 1) for c in g.conditions]
    lists = {
        "s_group": [g for g, _ in clauses] + ["1"],
        "s_attribute": [c.attribute for _, c in clauses] + [""],
        "s_operator": [c.operator.value for _, c in clauses] + ["EQUAL"],
        "s_value": [c.value or "" for _, c in clauses] + [""],
        "j_group": [g for g, _ in conditions] + ["1"],
        "j_cs": [c.cs_attribute for _, c in conditions] + [""],
        "j_mv": [c.mv_attribute for _, c in conditions] + [""],
        "j_case": ["yes" if c.case_sensitive else "no" for _, c in conditions] + ["yes"],
        "t_flow": [t.flow_type.value for t in rule.transformations] + ["Direct"],
        "t_target": [t.target for t in rule.transformations] + [""],
        "t_source": [t.source for t in rule.transformations] + [""],
        "t_once": ["yes" if t.apply_once else "no" for t in rule.transformations] + ["no"],
        "t_merge": [t.merge_type.value for t in rule.transformations] + ["Update"],
    }
    form = {"description": rule.description, "precedence": str(rule.precedence),
            **({} if rule.disabled else {"enabled": "yes"})}
    return form, lists


def test_an_unchanged_form_changes_nothing(small_workspace):
    rule = small_workspace.store.rules.get(USER_RULE)
    form, lists = _form_of(rule)
    assert edit_from_form(rule, form, lists).is_empty()


def test_the_form_reads_rows_removals_and_new_rows(small_workspace):
    rule = small_workspace.store.rules.get(USER_RULE)
    form, lists = _form_of(rule)
    form.pop("enabled")
    lists["t_remove"] = ["0"]
    lists["t_flow"][-1], lists["t_target"][-1], lists["t_source"][-1] = (
        "Expression", "extensionAttribute9", 'UCase([ou])')
    lists["s_attribute"][-1], lists["s_operator"][-1] = "uid", "ISNOTNULL"
    edit = edit_from_form(rule, form, lists)
    assert edit.disabled is True
    assert edit.transformations is not None
    assert [t.target for t in edit.transformations] == [
        t.target for t in rule.transformations[1:]] + ["extensionAttribute9"]
    assert edit.transformations[-1].flow_type is FlowType.EXPRESSION
    assert edit.scoping is not None
    assert edit.scoping[-1].clauses[-1].operator is ScopeOperator.ISNOTNULL
    assert edit.join is None and edit.precedence is None


@pytest.mark.parametrize(("field", "value", "message"), [
    ("s_operator", "SOMETIMES", "unknown operator"),
    ("s_group", "first", "the group is a number"),
    ("t_target", "sourceAnchor", "one per target"),
])
def test_bad_rows_are_refused_in_one_line(small_workspace, field, value, message):
    rule = small_workspace.store.rules.get(USER_RULE)
    form, lists = _form_of(rule)
    lists["s_attribute"][-1] = "uid"
    lists["s_value"][-1] = "x"
    lists["t_source"][-1] = "uid"
    lists[field][-1] = value
    with pytest.raises(ConfigurationError, match=message):
        edit_from_form(rule, form, lists)


def test_the_list_pages_by_precedence_and_filters(small_workspace):
    store = small_workspace.store
    every = RuleFilters(direction=None)
    first, after = rules_page_of(store, every, None, limit=3)
    assert [r.precedence for r in first] == [100, 101, 110] and after == f"110:{first[-1].id}"
    rest, end = rules_page_of(store, every, (110, first[-1].id or 0), limit=3)
    assert [r.precedence for r in rest] == [111] and end is None
    groups, _ = rules_page_of(store, RuleFilters(direction=Direction.OUTBOUND, mv_type="group"),
                              None)
    assert [r.name for r in groups] == ["Out to target - Group Join"]
    assert rules_page_of(store, RuleFilters(direction=None, reserved=True), None) == ([], None)
    assert rules_page_of(store, RuleFilters(connector="nope"), None) == ([], None)


def test_editable_copies_take_free_names_and_the_highest_free_precedence(small_workspace):
    store = small_workspace.store
    first = copy_for_editing(store, USER_RULE)
    assert (first.name, first.precedence) == (f"{USER_RULE} (copy)", 99)
    second = copy_for_editing(store, USER_RULE)
    assert (second.name, second.precedence) == (f"{USER_RULE} (copy 2)", 98)
    assert store.rules.get(USER_RULE).disabled


def test_a_stale_fingerprint_saves_nothing(small_workspace):
    store = small_workspace.store
    rule = store.rules.get(USER_RULE)
    stale = rule_fingerprint(rule)
    edit_rule_unless_stale(store, USER_RULE, RuleEdit(description="one"), stale)
    with pytest.raises(ConfigurationError, match="changed since this form was opened"):
        edit_rule_unless_stale(store, USER_RULE, RuleEdit(description="two"), stale)
    assert store.rules.get(USER_RULE).description == "one"


def test_value_count_reads_the_real_count_of_a_partly_loaded_member_list():
    rule = SyncRule("limit", Direction.OUTBOUND, "cloud", "group", "group", LinkType.JOIN,
                    transformations=[Transformation(
                        "member", FlowType.EXPRESSION,
                        'IIF(ValueCount("member")> 50000,Error("Maximum Group member count '
                        'exceeded"),IgnoreThisFlow)')])
    loaded = {"member": [f"m{i}" for i in range(1000)]}  # the first 1,000 of 250,000
    (flow,) = dry_run(rule, loaded, counts={"member": 250_000}).flows
    assert (flow.outcome, flow.message) == ("error", "Maximum Group member count exceeded")
    (flow,) = dry_run(rule, loaded).flows
    assert flow.outcome == "ignore_this_flow"
