"""The graph connector's watermark: one Graph delta link per object type, and, while a delta
round is under way, the ``@odata.nextLink`` to resume it from.

Stored as ``{"kind": "graph-delta", "delta_links": {"user": LINK, "group": LINK},
"resume": {"object_type": "group", "next_link": LINK}, "properties": {"user": [...], ...}}``.
``properties`` are the selected properties the service returned in the full import: a delta
entry holding all of them is the whole object (a FULL record), one holding fewer is a change.

A batch's watermark is true once the batch is staged (the engine commits both together): a
crash mid-round resumes at the page after the last staged one instead of reading the round
again, and the new delta link of an object type is stored only with the batch that ends its
round.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KIND = "graph-delta"


@dataclass(slots=True)
class DeltaWatermark:
    links: dict[str, str]
    #: (object type, nextLink) of the round in progress; the types before it are done.
    resume: tuple[str, str] | None = None
    #: Per object type, the selected properties the full import's answers held.
    properties: dict[str, list[str]] = field(default_factory=dict)

    def to_stored(self) -> dict[str, Any]:
        stored: dict[str, Any] = {"kind": KIND, "delta_links": dict(self.links)}
        if self.resume is not None:
            stored["resume"] = {"object_type": self.resume[0], "next_link": self.resume[1]}
        if self.properties:
            stored["properties"] = {t: sorted(p) for t, p in self.properties.items()}
        return stored

    @classmethod
    def from_stored(cls, raw: dict[str, Any] | None) -> DeltaWatermark | None:
        """None when ``raw`` is not a graph watermark (none yet, or another connector's)."""
        if not isinstance(raw, dict) or raw.get("kind") != KIND:
            return None
        links = raw.get("delta_links")
        if not isinstance(links, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in links.items()):
            return None
        resume = raw.get("resume")
        pair = None
        if isinstance(resume, dict) and isinstance(resume.get("object_type"), str) and \
                isinstance(resume.get("next_link"), str):
            pair = (resume["object_type"], resume["next_link"])
        properties = raw.get("properties")
        known = {str(t): [str(p) for p in names] for t, names in properties.items()
                 if isinstance(names, list)} if isinstance(properties, dict) else {}
        return cls(dict(links), pair, known)
