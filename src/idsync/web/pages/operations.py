"""Operations: the run history ranked as administrators read it (stopped, errors, warnings,
success; newest first within each), filtered and keyset-paged; the cycle-running box with live
progress (an htmx fragment polled every two seconds); and the buttons that ask the service to
start or stop a cycle or to run one profile on one connector."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from idsync.administration.cycle_control import start_cycle, start_run, stop_cycle
from idsync.errors import ConfigurationError
from idsync.model import RunProfile, RunStatus
from idsync.scheduler.lock import CycleLock
from idsync.scheduler.service import pending_requests
from idsync.scheduler.settings import load_settings, load_state
from idsync.store import Store
from idsync.store.runs import RunFilter, RunOutcome
from idsync.web.pages.progress import duration, progress_of
from idsync.web.requests import UiRequest, action, view

PAGE_SIZE = 50
#: How often the cycle box asks the server (seconds): live without loading a small server.
POLL_SECONDS = 2


def _iso_prefix(value: str | None, label: str) -> str | None:
    """A ``datetime-local`` (or date) value as the ISO prefix ``started_at`` compares with."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(f"{label}: {value!r} is not a date and time "
                                 "(YYYY-MM-DDTHH:MM)") from None
    return moment.replace(tzinfo=None).isoformat(timespec="minutes")


def run_filter(store: Store, query: Any) -> RunFilter:
    """The history's filters from the query string; a bad value is a one-line error."""
    connector = query.get("connector") or None
    status = query.get("status") or None
    outcome: RunOutcome | None = None
    exact: str | None = None
    if status:
        by_label = {o.label: o for o in RunOutcome}
        if status in by_label:
            outcome = by_label[status]
        elif status in {s.value for s in RunStatus}:
            exact = status
        else:
            raise ConfigurationError(f"unknown run status {status!r}")
    return RunFilter(connector_id=store.connectors.get(connector).id if connector else None,
                     outcome=outcome, status=exact,
                     since=_iso_prefix(query.get("since"), "since"),
                     until=_iso_prefix(query.get("until"), "until"))


def _after(text: str | None) -> tuple[int, int] | None:
    """The keyset cursor ``rank-id`` of the previous page's last run."""
    if not text:
        return None
    rank, _, run_id = text.partition("-")
    if not (rank.isdigit() and run_id.isdigit()):
        raise ConfigurationError(f"bad page cursor {text!r}")
    return int(rank), int(run_id)


def history(ui: UiRequest) -> Response:
    where = run_filter(ui.store, ui.query)
    runs = ui.store.runs.page(where, after=_after(ui.query.get("after")),
                              limit=PAGE_SIZE + 1)
    more = len(runs) > PAGE_SIZE
    runs = runs[:PAGE_SIZE]
    last = runs[-1] if runs else None
    filtered = any(ui.query.get(k) for k in ("connector", "status", "since", "until"))
    context: dict[str, Any] = dict(runs=runs, filtered=filtered,
                                   next_after=f"{int(last.outcome)}-{last.id}"
                                   if more and last else None)
    if ui.is_htmx and ui.query.get("part") == "history":
        return ui.render("operations_history.html", **context)
    return ui.render(
        "operations.html", connectors=[c.name for c in ui.store.connectors.list()],
        outcomes=[o.label for o in RunOutcome], statuses=[s.value for s in RunStatus],
        profiles=[p.value for p in RunProfile], poll=POLL_SECONDS,
        f={k: ui.query.get(k) or "" for k in ("connector", "status", "since", "until")},
        box=cycle_box(ui.store), **context)


def cycle_box(store: Store) -> dict[str, Any]:
    """What the cycle box shows: the cycle (policy, step i of n), every run in progress with
    its progress, the requests waiting for the service, and when idle the last cycle."""
    now = datetime.now(UTC)
    holder = CycleLock(store).holder()
    running = [progress_of(r, now) for r in store.runs.in_progress()]
    state = load_state(store)
    return {"cycle": holder, "runs": running, "requests": pending_requests(store),
            "busy": bool(holder or running), "state": state,
            # what the box showed: when it differs next time, the history reloads
            "seen": ".".join(str(p.run_id) for p in running) or "idle",
            "enabled": load_settings(store).sync_cycle_enabled, "duration": duration}


def cycle_fragment(ui: UiRequest) -> Response:
    box = cycle_box(ui.store)
    response = ui.render("operations_cycle.html", box=box, poll=POLL_SECONDS)
    if ui.query.get("seen", box["seen"]) != box["seen"]:
        # A run started or ended since the last look: the history below reloads itself
        # (hx-trigger from:body), so a finished run shows without a reload of the page.
        response.headers["HX-Trigger"] = "runs-changed"
    return response


def cycle_start(ui: UiRequest) -> Response:
    policy = str(ui.form.get("policy") or "")
    start_cycle(ui.store, policy)
    return ui.redirect("/operations", msg=f"{policy.capitalize()} sync cycle requested: the "
                       "service starts it now.")


def cycle_stop(ui: UiRequest) -> Response:
    holder = stop_cycle(ui.store)
    return ui.redirect("/operations", msg=f"Stop requested: the {holder.get('policy')} cycle "
                       "stops after its current run profile.")


def run_one(ui: UiRequest) -> Response:
    connector = str(ui.form.get("connector") or "")
    if not connector:
        raise ConfigurationError("choose a connector to run the profile on")
    profile = start_run(ui.store, connector, str(ui.form.get("profile") or ""))
    return ui.redirect("/operations", msg=f"{profile.value} on {connector} requested: the "
                       "service starts it now.")


routes = [
    Route("/operations", view(history)),
    Route("/operations/cycle", view(cycle_fragment)),
    Route("/operations/cycle/start", action(cycle_start), methods=["POST"]),
    Route("/operations/cycle/stop", action(cycle_stop), methods=["POST"]),
    Route("/operations/run", action(run_one), methods=["POST"]),
]
