"""A share limit: hold a change that touches more than ``percent`` of a set holding at least
``minimum`` elements at once. Two guards use one: the member removal limit (the values of one
group's list) and the attribute change limit on import (the objects of one type in a connector
space). Each is a per-connector setting, with a server-wide value under ``"*"``, a default when
neither is set, and an explicit off switch; a bad value is refused when it is set."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from idsync.errors import ConfigurationError
from idsync.store import Store

SERVER_WIDE = "*"


@dataclass(frozen=True)
class ShareLimit:
    percent: float
    minimum: int
    #: what ``minimum`` counts, as the settings, the JSON and the CLI option name it
    #: (``min_members``, ``min_objects``)
    minimum_name: str = field(default="minimum", compare=False)

    def exceeded(self, changed: int, size: int) -> bool:
        # Small sets legitimately change by large shares (2 of a 4-person team leave): only
        # sets of at least ``minimum`` are held.
        return size >= self.minimum and changed * 100 > self.percent * size

    def to_dict(self) -> dict[str, Any]:
        return {"percent": self.percent, self.minimum_name: self.minimum}


@dataclass(frozen=True)
class ShareLimitSetting:
    """Where a guard keeps its limits: ``{connector | "*": {percent, <minimum_name>} | {off}}``
    under ``key`` in the settings."""

    key: str
    default: ShareLimit

    @property
    def option(self) -> str:
        return "--" + self.default.minimum_name.replace("_", "-")

    def limit_of(self, store: Store, connector: str) -> ShareLimit | None:
        """The connector's limit, else the server's, else the default (None: turned off)."""
        limits = store.settings.get(self.key) or {}
        value = limits.get(connector) or limits.get(SERVER_WIDE)
        if value is None:
            return self.default
        if value.get("off"):
            return None
        return ShareLimit(float(value["percent"]), int(value[self.default.minimum_name]),
                          self.default.minimum_name)

    def set_limit(self, store: Store, connector: str, *, percent: float | None,
                  minimum: int | None, off: bool = False) -> dict[str, Any]:
        if off:
            value: dict[str, Any] = {"off": True}
        else:
            current = self.limit_of(store, connector) or self.default
            percent = current.percent if percent is None else percent
            minimum = current.minimum if minimum is None else minimum
            if not 0 < percent <= 100:
                raise ConfigurationError(
                    f"--percent must be above 0 and at most 100, not {percent:g}")
            if minimum < 1:
                raise ConfigurationError(f"{self.option} must be at least 1, not {minimum}")
            value = ShareLimit(percent, minimum, self.default.minimum_name).to_dict()
        limits = store.settings.get(self.key) or {}
        limits[connector] = value
        store.settings.set(self.key, limits)
        return value

    def reset_limit(self, store: Store, connector: str) -> None:
        limits = store.settings.get(self.key) or {}
        limits.pop(connector, None)
        store.settings.set(self.key, limits)
