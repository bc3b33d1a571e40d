"""The graph connector's parsed settings (declared in idsync.connectors.settings.graph)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from idsync.connectors.settings import SCHEMAS

DEFAULT_GRAPH_URL = "https://graph.microsoft.com/v1.0"
DEFAULT_SCOPE = "https://graph.microsoft.com/.default"


@dataclass(frozen=True, slots=True)
class GraphSettings:
    tenant_id: str
    client_id: str
    authority: str = "https://login.microsoftonline.com"
    graph_url: str = DEFAULT_GRAPH_URL
    object_types: tuple[str, ...] = ("user", "group")
    user_attributes: tuple[str, ...] = ()
    group_attributes: tuple[str, ...] = ()
    concurrency: int = 4
    write_budget: int = 3000
    write_window: float = 150.0
    timeout: float = 60.0
    max_retries: int = 5
    page_size: int = 999
    tls_ca_file: str | None = None
    password_length: int = 24

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> GraphSettings:
        """Through the graph schema: raises ``SettingError`` naming the offending key."""
        values = SCHEMAS["graph"].validate(settings)
        for key in ("timeout", "write_window"):
            values[key] = float(values[key])
        for key in ("object_types", "user_attributes", "group_attributes"):
            values[key] = tuple(values[key])
        return cls(**values)

    def attributes(self, object_type: str) -> tuple[str, ...]:
        return self.user_attributes if object_type == "user" else self.group_attributes

    @property
    def scope(self) -> str:
        """The token scope: the Graph endpoint's origin + ``/.default``."""
        if self.graph_url.rstrip("/") == DEFAULT_GRAPH_URL:
            return DEFAULT_SCOPE
        parts = urlsplit(self.graph_url)
        return f"{parts.scheme}://{parts.netloc}/.default"
