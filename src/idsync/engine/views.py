"""What a rule sees of the object it runs on.

An inbound rule reads a connector space object; an outbound rule reads a metaverse object. Both
views answer the expression language's questions (``EvaluationContext``) and the Direct flow's
(``direct``), and translate references into the space the flow writes to: connector space ids
to metaverse ids inbound, metaverse ids to the target connector's space ids outbound.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from idsync.engine.flow import DeferredRefs, NeedFullRefs, RefDelta, RefSet
from idsync.expressions import Ref
from idsync.model import CSObject, MVObject


def _shape(values: list[Any] | None, multivalued: bool) -> Any:
    if not values:
        return None
    if multivalued or len(values) > 1:
        return list(values)
    return values[0]


def _loaded(targets: Any, name: str) -> Any:
    """The values of a reference attribute, which only a Direct flow or a count may read while
    they are left in the store."""
    if isinstance(targets, DeferredRefs):
        raise NeedFullRefs(name)
    return targets


class InboundView:
    """A connector space object as an inbound rule sees it."""

    __slots__ = ("_cs_to_mv", "_dn_of", "_dn_to_mv", "_multivalued", "_mv_refs", "_params",
                 "cs")

    def __init__(self, cs: CSObject, *, cs_to_mv: Mapping[int, int],
                 dn_of: Callable[[int], str], dn_to_mv: Callable[[str], int | None],
                 multivalued: frozenset[str], mv_ref_attributes: frozenset[str],
                 parameters: Mapping[str, Any]) -> None:
        self.cs = cs
        self._cs_to_mv = cs_to_mv
        self._dn_of = dn_of
        self._dn_to_mv = dn_to_mv
        self._multivalued = multivalued
        self._mv_refs = mv_ref_attributes
        self._params = parameters

    # --- EvaluationContext ---------------------------------------------------------------

    def attribute(self, name: str) -> Any:
        if name == "dn":
            return Ref(self.cs.dn)
        targets = _loaded(self.cs.refs.get(name), name)
        if targets is not None:
            refs = [Ref(self._dn_of(t)) for t in sorted(targets)]
            return _shape(refs, name in self._multivalued)
        return _shape(self.cs.attributes.get(name), name in self._multivalued)

    def imported_value(self, name: str) -> Any:
        # Everything in a connector space hologram was confirmed by an import.
        return self.attribute(name)

    def value_count(self, name: str) -> int:
        targets = self.cs.refs.get(name)
        if isinstance(targets, DeferredRefs):
            return targets.count
        if targets is not None:
            return len(targets)
        return len(self.cs.attributes.get(name) or ())

    def parameter(self, name: str) -> Any:
        return self._params[name]

    # --- flows ---------------------------------------------------------------------------

    def direct(self, name: str) -> Any:
        if name == "dn":
            return [self.cs.dn]
        targets = self.cs.refs.get(name)
        if isinstance(targets, DeferredRefs):
            return RefDelta(self.cs.id, name)
        if targets is not None:
            m = self._cs_to_mv
            return RefSet(frozenset(m[t] for t in targets if t in m))
        values = self.cs.attributes.get(name)
        return list(values) if values else None

    def expression_result(self, target: str, result: Any) -> Any:
        if target in self._mv_refs and isinstance(result, list):
            ids = {self._dn_to_mv(str(v)) for v in result}
            ids.discard(None)
            return RefSet(frozenset(ids))  # type: ignore[arg-type]
        return result

    def values_of(self, name: str) -> list[Any]:
        """For scoping filters: every value, as a list."""
        if name == "dn":
            return [self.cs.dn]
        targets = _loaded(self.cs.refs.get(name), name)
        if targets is not None:
            return [self._dn_of(t) for t in targets]
        return list(self.cs.attributes.get(name) or ())


class OutboundView:
    """A metaverse object as an outbound rule of one connector sees it."""

    __slots__ = ("_cs_ref_attrs", "_dn_of", "_dn_to_cs", "_hologram", "_multivalued",
                 "_mv_to_cs", "_params", "dropped", "mv")

    def __init__(self, mv: MVObject, *, mv_to_cs: Mapping[int, int],
                 dn_of: Callable[[int], str], dn_to_cs: Callable[[str], int | None],
                 hologram: Mapping[str, list[Any]] | None, multivalued: frozenset[str],
                 cs_ref_attributes: frozenset[str], parameters: Mapping[str, Any]) -> None:
        self.mv = mv
        self._mv_to_cs = mv_to_cs
        self._dn_of = dn_of
        self._dn_to_cs = dn_to_cs
        self._hologram = hologram or {}
        self._multivalued = multivalued
        self._cs_ref_attrs = cs_ref_attributes
        self._params = parameters
        #: reference attribute -> metaverse ids that have no object in the target connector
        self.dropped: dict[str, list[int]] = {}

    def attribute(self, name: str) -> Any:
        targets = _loaded(self.mv.refs.get(name), name)
        if targets is not None:
            m = self._mv_to_cs
            refs = [Ref(self._dn_of(m[t])) for t in sorted(targets) if t in m]
            return _shape(refs, name in self._multivalued)
        return _shape(self.mv.attributes.get(name), name in self._multivalued)

    def imported_value(self, name: str) -> Any:
        return _shape(self._hologram.get(name), name in self._multivalued)

    def value_count(self, name: str) -> int:
        targets = self.mv.refs.get(name)
        if isinstance(targets, DeferredRefs):
            return targets.count
        if targets is not None:
            return len(targets)
        return len(self.mv.attributes.get(name) or ())

    def parameter(self, name: str) -> Any:
        return self._params[name]

    def direct(self, name: str) -> Any:
        targets = self.mv.refs.get(name)
        if isinstance(targets, DeferredRefs):
            return RefDelta(self.mv.id, name)
        if targets is not None:
            m = self._mv_to_cs
            found = frozenset(m[t] for t in targets if t in m)
            if len(found) < len(targets):
                self.dropped[name] = sorted(t for t in targets if t not in m)
            return RefSet(found)
        values = self.mv.attributes.get(name)
        return list(values) if values else None

    def expression_result(self, target: str, result: Any) -> Any:
        if target in self._cs_ref_attrs and isinstance(result, list):
            ids = {self._dn_to_cs(str(v)) for v in result}
            ids.discard(None)
            return RefSet(frozenset(ids))  # type: ignore[arg-type]
        return result

    def values_of(self, name: str) -> list[Any]:
        targets = _loaded(self.mv.refs.get(name), name)
        if targets is not None:
            return [str(t) for t in targets]
        return list(self.mv.attributes.get(name) or ())
