"""What an expression reads while it runs: the object's attributes and the parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class EvaluationContext(Protocol):
    """The engine implements this over a connector space or metaverse object."""

    def attribute(self, name: str) -> Any:
        """None when absent; a list for a multi-valued attribute; a scalar otherwise."""

    def imported_value(self, name: str) -> Any:
        """Like :meth:`attribute`, restricted to values confirmed by an import."""

    def value_count(self, name: str) -> int:
        """Number of values, answered without loading them (250,000-member groups)."""

    def parameter(self, name: str) -> Any:
        """A parameter such as ``Domain.FQDN``; raises KeyError when unknown."""


def _normalise(value: Any) -> Any:
    # An empty multi-valued attribute is an absent attribute.
    if isinstance(value, (list, tuple)):
        return list(value) if value else None
    return value


class DictContext:
    """An :class:`EvaluationContext` over plain mappings; a list value is multi-valued."""

    __slots__ = ("_attributes", "_imported", "_parameters")

    def __init__(
        self,
        attributes: Mapping[str, Any],
        parameters: Mapping[str, Any] | None = None,
        imported: Mapping[str, Any] | None = None,
    ) -> None:
        self._attributes = attributes
        self._parameters = parameters if parameters is not None else {}
        self._imported = imported

    def attribute(self, name: str) -> Any:
        return _normalise(self._attributes.get(name))

    def imported_value(self, name: str) -> Any:
        source = self._imported if self._imported is not None else self._attributes
        return _normalise(source.get(name))

    def value_count(self, name: str) -> int:
        value = self._attributes.get(name)
        if value is None:
            return 0
        if isinstance(value, (list, tuple)):
            return len(value)
        return 1

    def parameter(self, name: str) -> Any:
        return self._parameters[name]

    def __repr__(self) -> str:
        return f"DictContext({dict(self._attributes)!r})"
