"""The tabs every settings page shows (the pages are ``settings`` and its sub-pages)."""

from __future__ import annotations

from typing import Any

#: The sub-pages of Settings, in the tabs of every settings page: (path, label).
SETTINGS_TABS = (
    ("/settings", "Scheduler and staging"),
    ("/settings/limits", "Deletion threshold and limits"),
    ("/settings/exports", "Export preview"),
    ("/settings/api-versions", "Cloud API versions"),
    ("/settings/writeback", "Writeback"),
    ("/settings/doctor", "Doctor"),
)


def tabs(current: str) -> dict[str, Any]:
    return {"tabs": SETTINGS_TABS, "current_tab": current}
