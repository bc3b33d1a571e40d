"""The step trace of one object's path (preview or commit of one object,
idsync.administration.object_preview): what each stage did to it, with old -> new values.

Plain data, filled while the real engine passes run for that object, so the command line, its
JSON and the web page show the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from idsync.administration.preview import display_value


class StepKind(StrEnum):
    """The stages of one object's path, in the order they run."""

    READ = "read"  # the object read fresh from its directory
    IMPORT = "import"  # its connector space hologram, old -> new
    SCOPING = "scoping"  # the inbound rules whose scope holds it
    JOIN = "join"  # join, projection, disconnect or delete
    INBOUND = "inbound"  # metaverse attributes by precedence
    PROVISIONING = "provisioning"  # the connector space objects of other connectors
    EXPORTS = "exports"  # the pending exports staged in each target
    EXPORTED = "exported"  # (commit) what the export runs did


@dataclass
class ValueChange:
    attribute: str
    old: list[str]
    new: list[str]
    #: where a value comes from (a metaverse attribute's rule and precedence) or what
    #: operation an export sends
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"attribute": self.attribute, "old": self.old, "new": self.new}
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class Step:
    kind: StepKind
    #: one line: what happened in this stage
    summary: str
    changes: list[ValueChange] = field(default_factory=list)
    #: further lines (each rule's scope, each target's outcome)
    details: list[str] = field(default_factory=list)
    #: a connector this step is about (exports: the target)
    connector: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"step": self.kind.value, "summary": self.summary}
        if self.connector:
            out["connector"] = self.connector
        if self.details:
            out["details"] = self.details
        if self.changes:
            out["changes"] = [c.to_dict() for c in self.changes]
        return out


@dataclass
class RunLine:
    """A run a commit recorded in the run history."""

    run_id: int
    connector: str
    profile: str
    status: str
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "connector": self.connector, "profile": self.profile,
                "status": self.status, "message": self.message}


@dataclass
class ObjectTrace:
    connector: str
    dn: str
    steps: list[Step] = field(default_factory=list)
    committed: bool = False
    runs: list[RunLine] = field(default_factory=list)
    #: what the administrator must know about the outcome (staging mode, a stopped run)
    notes: list[str] = field(default_factory=list)

    def add(self, kind: StepKind, summary: str, **more: Any) -> Step:
        step = Step(kind, summary, **more)
        self.steps.append(step)
        return step

    @property
    def ok(self) -> bool:
        return all(not r.status.startswith(("stopped", "no-start")) for r in self.runs)

    def to_dict(self) -> dict[str, Any]:
        return {"connector": self.connector, "dn": self.dn, "committed": self.committed,
                "steps": [s.to_dict() for s in self.steps],
                "runs": [r.to_dict() for r in self.runs], "notes": self.notes}


def shown(values: Iterable[Any] | None) -> list[str]:
    return [display_value(v) for v in values or ()]


def attribute_changes(old: Mapping[str, Any], new: Mapping[str, Any],
                      notes: Mapping[str, str] | None = None) -> list[ValueChange]:
    """Attribute by attribute, the ones whose values differ (old -> new)."""
    out: list[ValueChange] = []
    for name in sorted(set(old) | set(new), key=str.lower):
        before, after = _as_list(old.get(name)), _as_list(new.get(name))
        if before != after:
            out.append(ValueChange(name, shown(before), shown(after),
                                   (notes or {}).get(name, "")))
    return out


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple | set | frozenset):
        return sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
    return [value]
