"""The Synchronization Rules Editor: the rules listed and filtered (direction, connector,
object types, link type, enabled, out-of-box), and one rule's read view in four tabs
(Description, Scoping filter, Join rules, Transformations). Editing is in ``rules_editor``,
the dry run on one object in ``rules_test``; their routes are added here."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from starlette.responses import Response
from starlette.routing import Route

from idsync.model import Direction, LinkType
from idsync.rules.model import SyncRule
from idsync.store import Store
from idsync.web.pages import rules_editor, rules_form, rules_test
from idsync.web.requests import UiRequest, view

PAGE_SIZE = 50
#: Rules read from the store per step while filters the store cannot apply (object types,
#: link type: they live in the rule's document) fill a page.
_BATCH = 200


class RuleTab(StrEnum):
    DESCRIPTION = "description"
    SCOPING = "scoping"
    JOIN = "join"
    TRANSFORMATIONS = "transformations"


TAB_LABELS = {RuleTab.DESCRIPTION: "Description", RuleTab.SCOPING: "Scoping filter",
              RuleTab.JOIN: "Join rules", RuleTab.TRANSFORMATIONS: "Transformations"}

#: The direction selector: like the real editor, the list opens on Inbound.
DIRECTION_CHOICES = (("inbound", "Inbound"), ("outbound", "Outbound"), ("all", "Both"))


@dataclass
class RuleFilters:
    direction: Direction | None = Direction.INBOUND
    connector: str = ""
    cs_type: str = ""
    mv_type: str = ""
    link_type: LinkType | None = None
    enabled: bool | None = None
    reserved: bool | None = None

    def matches(self, rule: SyncRule) -> bool:
        """The filters the store does not apply."""
        return ((not self.cs_type or rule.cs_object_type.lower() == self.cs_type.lower())
                and (not self.mv_type or rule.mv_object_type.lower() == self.mv_type.lower())
                and (self.link_type is None or rule.link_type is self.link_type))


def _tri(value: str | None, yes: str, no: str) -> bool | None:
    return True if value == yes else False if value == no else None


def filters_from_query(query: dict[str, str]) -> RuleFilters:
    direction_text = query.get("direction", "inbound")
    direction: Direction | None = Direction.INBOUND
    if direction_text == "all":
        direction = None
    elif direction_text in {d.value for d in Direction}:
        direction = Direction(direction_text)
    link = query.get("link_type") or ""
    return RuleFilters(
        direction=direction,
        connector=query.get("connector", "").strip(),
        cs_type=query.get("cs_type", "").strip(), mv_type=query.get("mv_type", "").strip(),
        link_type=LinkType(link) if link in {t.value for t in LinkType} else None,
        enabled=_tri(query.get("enabled"), "yes", "no"),
        reserved=_tri(query.get("reserved"), "yes", "no"))


def _after(text: str | None) -> tuple[int, int] | None:
    """The keyset of the next page: ``precedence:id`` of the last rule shown."""
    if not text:
        return None
    precedence, _, rule_id = text.partition(":")
    try:
        return int(precedence), int(rule_id)
    except ValueError:
        return None


def rules_page_of(store: Store, filters: RuleFilters, after: tuple[int, int] | None,
                  limit: int = PAGE_SIZE) -> tuple[list[SyncRule], str | None]:
    """One page of the rules list and the keyset of the next page (None: the last page)."""
    connector_id = None
    if filters.connector:
        connector = store.connectors.find(filters.connector)
        if connector is None:
            return [], None
        connector_id = connector.id
    found: list[SyncRule] = []
    cursor = after
    while len(found) <= limit:
        batch = store.rules.page(
            after=cursor, limit=_BATCH,
            direction=filters.direction.value if filters.direction else None,
            connector_id=connector_id,
            disabled=None if filters.enabled is None else not filters.enabled,
            reserved=filters.reserved)
        found.extend(r for r in batch if filters.matches(r))
        if len(batch) < _BATCH:
            break
        cursor = (batch[-1].precedence, batch[-1].id or 0)
    shown = found[:limit]
    more = len(found) > limit
    return shown, f"{shown[-1].precedence}:{shown[-1].id}" if more and shown else None


def rules_list(ui: UiRequest) -> Response:
    query = dict(ui.query.items())
    filters = filters_from_query(query)
    rules, next_after = rules_page_of(ui.store, filters, _after(query.get("after")))
    return ui.render("rules.html", rules=rules, filters=filters, next_after=next_after,
                     directions=DIRECTION_CHOICES, link_types=[t.value for t in LinkType],
                     connectors=[c.name for c in ui.store.connectors.list()],
                     direction_value=query.get("direction", "inbound"))


def rule_page(ui: UiRequest) -> Response:
    rule = rules_form.rule_by_id(ui.store, str(ui.params["rule_id"]))
    tab_text = ui.query.get("tab", RuleTab.DESCRIPTION.value)
    tab = RuleTab(tab_text) if tab_text in {t.value for t in RuleTab} else RuleTab.DESCRIPTION
    connector = ui.store.connectors.find(rule.connector)
    return ui.render("rules_rule.html", rule=rule, tab=tab, tabs=TAB_LABELS,
                     full_sync_required=bool(connector and connector.full_sync_required))


routes = [
    Route("/rules", view(rules_list)),
    *rules_editor.routes,
    *rules_test.routes,
    Route("/rules/{rule_id}", view(rule_page)),
]
