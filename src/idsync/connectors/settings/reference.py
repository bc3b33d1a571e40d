"""The settings reference page (``docs/settings.md``, ``idsync connector settings``), written
from the schemas that validate the settings, so the page cannot say what the code does not do."""

from __future__ import annotations

from typing import Any

from idsync.connectors.settings import SCHEMAS
from idsync.connectors.settings.schema import ConnectorSchema, Setting

HEADER = """\
# Connector settings

Every setting of every connector type. This page is generated from the schemas that check the
settings (`src/idsync/connectors/settings/`): print it with `idsync connector settings [TYPE]`;
a test keeps the committed page equal to the output.

Settings are given as `--set KEY=VALUE` to `idsync connector add` and `idsync connector set`
(and come from `connectors/NAME.yaml` in `idsync config import`). A value is YAML: numbers,
`true`/`false`, lists as `[a, b]`, mappings as `{a: b}`. A setting that does not fit the schema
(an unknown key, a wrong type, a value out of range or not allowed) is refused with one line
naming the key, what is wrong and what is expected, and nothing is stored. Secrets (passwords,
tokens) are not settings.
"""


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if value == "":
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(str(v) for v in value) + "]" if value else "[]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_shown(v)}" for k, v in value.items()) + "}"
    return str(value)


def _row(setting: Setting) -> str:
    name = f"`{setting.name}`" + (f" (or `{setting.alias}`)" if setting.alias else "")
    default = "**required**" if setting.required else f"`{_shown(setting.default)}`"
    cells = [name, setting.expected(), default, setting.description]
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def render_type(schema: ConnectorSchema) -> str:
    lines = [f"## `{schema.type}`", "", schema.summary, "",
             "| setting | value | default | what it does |", "|---|---|---|---|"]
    lines += [_row(setting) for setting in schema.settings]
    if schema.refused:
        lines += ["", "Refused keys: " + "; ".join(
            f"`{key}` ({why})" for key, why in sorted(schema.refused.items())) + "."]
    if schema.notes:
        lines += ["", schema.notes.rstrip()]
    return "\n".join(lines) + "\n"


def render(connector_type: str | None = None) -> str:
    """The whole page, or one type's section."""
    if connector_type is not None:
        return render_type(SCHEMAS[connector_type])
    return HEADER + "".join("\n" + render_type(SCHEMAS[t]) for t in ("ldap", "file", "cloud",
                                                                     "graph"))
