"""Export through Microsoft Graph: changes planned into batch items (``export_plan``), items
packed 20 to a ``$batch``, answers read into one ``ExportResult`` per change.

Batches are filled from a queue of items ready to go: the items of the changes read so far,
and the items that waited for a create's answer (a group's members beyond the first 20, a new
user's manager). Changes are read from the engine's iterable only as the queue needs them, so
memory holds one batch's worth of changes beyond the large ones in flight. Within a batch, a
change's member and manager requests depend on its create or attribute update (``dependsOn``).
One object's failure never stops the others; a change succeeds only if all its requests did.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from idsync.connectors.base import ExportChange, ExportResult
from idsync.connectors.graph.errors import GraphApiError
from idsync.connectors.graph.export_answers import (
    Failure,
    Outcome,
    failure,
    judge,
    trim,
)
from idsync.connectors.graph.export_plan import (
    MAX_BATCH,
    ChangePlan,
    Item,
    Step,
    depends_on,
    dn_of,
    member_ref_items,
    plan_change,
)
from idsync.connectors.graph.passwords import (
    DEFAULT_LENGTH,
    MAX_LENGTH,
    MIN_LENGTH,
    password_profile,
)
from idsync.error_codes import ErrorCode
from idsync.errors import ConfigurationError
from idsync.model import ExportKind

log = logging.getLogger(__name__)

#: Failures named in an export error's detail; the rest are counted.
_NAMED_FAILURES = 3
#: Times an item answered 424 (its dependency failed) is sent again when that dependency
#: turned out done (an idempotent 404); more would be a loop.
_MAX_ATTEMPTS = 2


class BatchClient(Protocol):
    """What the exporter needs of ``GraphClient`` (contract B): one ``$batch`` of at most 20
    items, retried by the client, answered ``{id: {"status", "headers", "body"}}``. A
    ``$batch`` refused whole raises ``GraphApiError(status, code, message)``."""

    def batch(self, requests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """The settings the exporter reads, whatever object the connector passes."""

    graph_url: str
    password_length: int = DEFAULT_LENGTH

    @classmethod
    def of(cls, settings: object) -> ExportOptions:
        if isinstance(settings, ExportOptions):
            return settings

        def get(name: str, default: Any = None) -> Any:
            if isinstance(settings, Mapping):
                return settings.get(name, default)
            return getattr(settings, name, default)

        graph_url = get("graph_url")
        if not isinstance(graph_url, str) or not graph_url:
            raise ConfigurationError("the graph exporter needs the connector's graph_url")
        length = get("password_length") or DEFAULT_LENGTH
        if not isinstance(length, int) or not MIN_LENGTH <= length <= MAX_LENGTH:
            raise ConfigurationError(f"password_length must be a whole number from "
                                     f"{MIN_LENGTH} to {MAX_LENGTH}")
        return cls(graph_url.rstrip("/"), length)


@dataclass(eq=False, slots=True)
class Tracker:
    """One change in flight."""

    plan: ChangePlan
    object_id: str | None
    #: Items queued or sent, not yet answered.
    outstanding: int = 0
    #: Items that need the create's answer (the new id).
    waiting: list[Item] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    #: The create or the attribute update failed: the change's other requests are not sent.
    head_failed: bool = False


class GraphExporter:
    def __init__(self, client: BatchClient, settings: object) -> None:
        self.client = client
        self.options = ExportOptions.of(settings)

    def __repr__(self) -> str:
        return f"GraphExporter({self.options.graph_url!r})"

    def export(self, changes: Iterable[ExportChange]) -> Iterator[ExportResult]:
        source = iter(changes)
        ready: deque[tuple[Tracker, Item]] = deque()
        more = True
        while True:
            # Fill the batch from the queue first, then from the next changes.
            batch: list[tuple[Tracker, Item]] = []
            while len(batch) < MAX_BATCH:
                if not ready:
                    change = next(source, None) if more else None
                    if change is None:
                        more = False
                        break
                    tracker = self._start(change, ready)
                    if tracker.outstanding == 0:
                        yield self._result(tracker)
                    continue
                tracker, item = ready.popleft()
                if tracker.head_failed:  # its create or update failed: the rest is not sent
                    tracker.outstanding -= 1
                    if tracker.outstanding == 0:
                        yield self._result(tracker)
                    continue
                batch.append((tracker, item))
            if not batch:
                return
            yield from self._send(batch, ready)

    def _start(self, change: ExportChange, ready: deque[tuple[Tracker, Item]]) -> Tracker:
        plan = plan_change(change, self.options.graph_url)
        tracker = Tracker(plan, change.anchor)
        if plan.refused is not None:
            code, detail = plan.refused
            tracker.failures.append(Failure(Step.CREATE if change.kind is ExportKind.ADD
                                            else Step.UPDATE, code, detail, False))
            return tracker
        now = [i for i in plan.items if not i.after_create]
        tracker.waiting = [i for i in plan.items if i.after_create]
        ready.extend((tracker, item) for item in now)
        tracker.outstanding = len(now)
        return tracker

    def _request(self, rid: str, tracker: Tracker, item: Item, after: str | None,
                 passwords: list[str]) -> dict[str, Any]:
        collection = tracker.plan.collection
        url = f"/{collection}" if item.suffix is None else \
            f"/{collection}/{tracker.object_id}{item.suffix}"
        request: dict[str, Any] = {"id": rid, "method": item.method, "url": url}
        body = dict(item.body) if item.body is not None else None
        if item.password:
            profile = password_profile(self.options.password_length)
            passwords.append(str(profile["password"]))
            body = {**(body or {}), "passwordProfile": profile}
        if body is not None:
            request["body"] = body
            request["headers"] = {"Content-Type": "application/json"}
        if after is not None:
            request["dependsOn"] = [after]
        return request

    def _send(self, batch: list[tuple[Tracker, Item]],
              ready: deque[tuple[Tracker, Item]]) -> Iterator[ExportResult]:
        sent: dict[str, tuple[Tracker, Item]] = {}
        requests: list[dict[str, Any]] = []
        passwords: list[str] = []  # this batch's new passwords, to scrub from any message
        for (tracker, item), after in zip(batch, depends_on(batch), strict=True):
            rid = str(len(requests) + 1)
            requests.append(self._request(rid, tracker, item, after, passwords))
            sent[rid] = (tracker, item)
        answers = self._post(requests, sent)
        del requests  # the passwords go with the requests
        for rid, (tracker, item) in sent.items():
            self._read(tracker, item, answers.get(rid), ready, passwords)
            tracker.outstanding -= 1
            if tracker.outstanding == 0:
                yield self._result(tracker)

    def _post(self, requests: list[dict[str, Any]],
              sent: dict[str, tuple[Tracker, Item]]) -> dict[str, dict[str, Any]]:
        log.debug("graph export: $batch of %d requests", len(requests))
        try:
            return self.client.batch(requests)
        except GraphApiError as error:
            # The $batch refused whole, after the client's retries: every request of it gets
            # the refusal.
            return {rid: {"status": error.status, "headers": {},
                          "body": {"error": {"code": error.code, "message": error.message}}}
                    for rid in sent}

    def _read(self, tracker: Tracker, item: Item, answer: dict[str, Any] | None,
              ready: deque[tuple[Tracker, Item]], passwords: list[str]) -> None:
        verdict = judge(item, answer)
        if verdict.outcome is Outcome.DONE:
            if item.step is Step.CREATE:
                body = answer.get("body") if answer else None
                new_id = body.get("id") if isinstance(body, dict) else None
                if not isinstance(new_id, str) or not new_id:
                    tracker.failures.append(Failure(Step.CREATE, ErrorCode.EXPORT_FAILED,
                                                    "Graph's answer to the create holds no id",
                                                    False))
                    tracker.head_failed = True
                    return
                tracker.object_id = new_id
                ready.extendleft((tracker, i) for i in reversed(tracker.waiting))
                tracker.outstanding += len(tracker.waiting)
                tracker.waiting = []
            return
        if verdict.outcome is Outcome.SPLIT:
            singles = member_ref_items(self.options.graph_url, item)
            ready.extendleft((tracker, i) for i in reversed(singles))
            tracker.outstanding += len(singles)
            return
        if verdict.outcome is Outcome.DEPENDENCY:
            if not tracker.head_failed and item.attempts < _MAX_ATTEMPTS:
                item.attempts += 1  # its dependency was done after all: send it again
                ready.appendleft((tracker, item))
                tracker.outstanding += 1
            elif not tracker.head_failed:
                tracker.failures.append(failure(item, 424, "FailedDependency",
                                                "a request it depended on failed"))
            return
        assert verdict.failure is not None
        found = verdict.failure
        message = found.message
        for password in passwords:
            message = message.replace(password, "***")
        tracker.failures.append(Failure(found.step, found.code, message, found.retryable,
                                        found.what))
        if item.head:
            tracker.head_failed = True

    def _result(self, tracker: Tracker) -> ExportResult:
        change = tracker.plan.change
        adding = change.kind is ExportKind.ADD
        anchor = tracker.object_id if adding else change.anchor
        dn = dn_of(change.object_type, anchor) if adding and anchor else None
        failures = list(tracker.failures)
        if tracker.plan.pending:
            pending = tracker.plan.pending
            named = ", ".join(pending[:_NAMED_FAILURES])
            more = f" and {len(pending) - _NAMED_FAILURES} more" \
                if len(pending) > _NAMED_FAILURES else ""
            failures.append(Failure(Step.BIND if change.object_type == "group"
                                    else Step.SET_MANAGER, ErrorCode.GRAPH_REFERENCE_PENDING,
                                    f"not sent, no Graph id yet: {named}{more}", True))
        if not failures:
            return ExportResult(change.cs_id, ok=True, anchor=anchor, dn=dn)
        detail = "; ".join(f.describe() for f in failures[:_NAMED_FAILURES])
        if len(failures) > _NAMED_FAILURES:
            detail += f"; {len(failures) - _NAMED_FAILURES} more requests failed"
        return ExportResult(change.cs_id, ok=False, anchor=anchor, dn=dn,
                            error_code=failures[0].code, error_detail=trim(detail, 1000),
                            retryable=all(f.retryable for f in failures))
