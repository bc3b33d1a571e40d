""""Test this rule on an object": the dry run of ``idsync rules test`` in the browser, on a
connector space object (by DN, inbound rules), a metaverse object (by id, outbound rules) or
pasted JSON attributes. It shows the scope clause by clause, the join attempt and every
computed value, and writes nothing (any administrator may run it)."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from idsync.administration.rule_dry_run import (
    REF_VALUES_LOADED,
    DryRunReport,
    FlowResult,
    dry_run,
    stored_object,
)
from idsync.errors import ConfigurationError
from idsync.expressions.json_values import TYPED_HELP, attributes_from_json, to_json
from idsync.model import Direction
from idsync.web.pages.rules_form import rule_by_id
from idsync.web.requests import UiRequest, view

#: Values shown per multi-valued result (a member list is counted, not printed whole).
VALUES_SHOWN = 10


def shown_value(flow: FlowResult) -> str:
    """A flow's result as an administrator reads it (the CLI's wording, values as JSON)."""
    return flow.described(lambda v: str(to_json(v)), VALUES_SHOWN)


def join_values(values: dict[str, list[Any]]) -> str:
    """A join group's values: ``attribute = value`` (the first few of a multi-valued one)."""
    return "; ".join(f"{attr} = " + ", ".join(str(to_json(v)) for v in found[:VALUES_SHOWN])
                     + (", ..." if len(found) > VALUES_SHOWN else "")
                     for attr, found in values.items())


def _run(ui: UiRequest, rule: Any) -> tuple[DryRunReport, str, dict[str, int]]:
    pasted = str(ui.form.get("json", "")).strip()
    dn = str(ui.form.get("dn", "")).strip()
    mv_id = str(ui.form.get("mv_id", "")).strip()
    if pasted:
        try:
            data = json.loads(pasted)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"the pasted attributes are not JSON: {exc}") from None
        attributes = attributes_from_json(data, "the pasted attributes")
        return (dry_run(rule, attributes, store=ui.store, dn=dn or None),
                "the pasted attributes", {})
    if dn:
        found = stored_object(ui.store, rule, dn=dn)
    elif mv_id:
        if not mv_id.isdigit():
            raise ConfigurationError(f"metaverse id {mv_id!r}: a number")
        found = stored_object(ui.store, rule, mv_id=int(mv_id))
    else:
        raise ConfigurationError("name an object: its DN, a metaverse id, or paste its "
                                 "attributes as JSON")
    report = dry_run(rule, found.attributes, store=ui.store, dn=found.dn, counts=found.counts)
    return report, found.label, found.counts


def rule_test_page(ui: UiRequest) -> Response:
    rule = rule_by_id(ui.store, str(ui.params["rule_id"]))
    report = label = None
    counts: dict[str, int] = {}
    if ui.request.method == "POST":
        report, label, counts = _run(ui, rule)
    return ui.render("rules_test.html", rule=rule, report=report, label=label,
                     inbound=rule.direction is Direction.INBOUND, form=ui.form,
                     shown_value=shown_value, join_values=join_values, typed_help=TYPED_HELP,
                     partial={a: n for a, n in counts.items() if n > REF_VALUES_LOADED},
                     loaded=REF_VALUES_LOADED)


routes = [Route("/rules/{rule_id}/test", view(rule_test_page), methods=["GET", "POST"])]
