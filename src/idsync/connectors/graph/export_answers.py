"""Reading Graph's answer to one batch item of an export: done, done already (an idempotent
resend), a dependency that failed, or a failure with Graph's code and message."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from idsync.connectors.graph.export_plan import Item, Step
from idsync.error_codes import ErrorCode

#: Statuses the client retries; an item still answered so is a transient failure.
TRANSIENT = frozenset({429, 503, 504})
#: Graph's code when an answer carries none.
_STATUS_CODES = {429: "TooManyRequests", 503: "ServiceUnavailable", 504: "GatewayTimeout",
                 404: "Request_ResourceNotFound", 400: "Request_BadRequest"}
_DUPLICATE = re.compile(r"Another object with the same value for property (\w+) already exists")
#: Graph's refusal of a member add when the member is there already.
_MEMBER_EXISTS = "added object references already exist"
#: The longest Graph message kept in an export error's detail.
MAX_MESSAGE = 300


class Outcome(StrEnum):
    DONE = "done"
    #: A bind refused because a member is there already: its members go one by one.
    SPLIT = "split"
    #: 424: a request it depended on failed (that one carries the error).
    DEPENDENCY = "dependency"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Failure:
    step: Step
    code: str
    message: str
    retryable: bool
    #: Which request, when the step alone does not say (``remove member <id>``).
    what: str = ""

    def describe(self) -> str:
        return f"{self.what or self.step.value}: {self.code}: {self.message}"


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    failure: Failure | None = None


def _error(body: Any) -> tuple[str | None, str]:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, str(body)[:MAX_MESSAGE] if body else ""
    code = error.get("code")
    message = error.get("message")
    return (code if isinstance(code, str) and code else None,
            message if isinstance(message, str) else "")


def trim(message: str, limit: int = MAX_MESSAGE) -> str:
    message = " ".join(message.split())
    return message if len(message) <= limit else message[:limit - 3] + "..."


def failure(step: Item | Step, status: int, code: str | None, message: str) -> Failure:
    """A failed request as an export error: Graph's code and message, except a duplicate
    unique value, which is idsync's duplicate-attribute code."""
    what = step.step if isinstance(step, Item) else step
    label = step.label if isinstance(step, Item) else ""
    duplicate = _DUPLICATE.search(message)
    if status == 400 and duplicate:
        return Failure(what, ErrorCode.ATTRIBUTE_VALUE_MUST_BE_UNIQUE,
                       trim(f"{duplicate.group(1)}: {message}"), False, label)
    code = code or _STATUS_CODES.get(status) or f"HTTP{status}"
    return Failure(what, code, trim(message or f"HTTP {status}"),
                   status in TRANSIENT or status >= 500, label)


def judge(item: Item, answer: dict[str, Any] | None) -> Verdict:
    """The verdict on one item's answer (None: the client gave none)."""
    if answer is None:
        return Verdict(Outcome.FAILED, Failure(item.step, ErrorCode.NO_RESULT,
                                               "Graph's batch answer left this request out",
                                               True))
    status = int(answer.get("status") or 0)
    if 200 <= status < 300:
        return Verdict(Outcome.DONE)
    code, message = _error(answer.get("body"))
    if status == 424:
        return Verdict(Outcome.DEPENDENCY)
    if status == 404 and item.step in (Step.DELETE, Step.UNBIND, Step.CLEAR_MANAGER):
        return Verdict(Outcome.DONE)  # gone already: what the request wanted
    if status == 400 and _MEMBER_EXISTS in message:
        if item.step is Step.BIND and item.members > 1:
            return Verdict(Outcome.SPLIT)
        if item.step in (Step.BIND, Step.MEMBER_REF):
            return Verdict(Outcome.DONE)  # the member is there: what the request wanted
    return Verdict(Outcome.FAILED, failure(item, status, code, message))
