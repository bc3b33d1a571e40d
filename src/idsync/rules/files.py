"""Sync rules as readable YAML files: export, import, and the rule sets shipped with idsync.

A file holds one rule (a mapping) or several (a list, or a mapping with a ``rules`` list). The
field names are those of ``SyncRule.to_dict``.
"""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from idsync.errors import ConfigurationError
from idsync.rules.model import SyncRule


def _documents(data: Any, source: str) -> list[dict[str, Any]]:
    if isinstance(data, dict) and "rules" in data:
        data = data["rules"]
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list) and all(isinstance(d, dict) for d in data):
        return data
    raise ConfigurationError(f"{source}: expected a rule, a list of rules or 'rules:'")


def load_rules_text(text: str, source: str = "<text>") -> list[SyncRule]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{source}: not valid YAML: {exc}") from exc
    if data is None:
        return []
    return [SyncRule.from_dict(d) for d in _documents(data, source)]


def load_rules(path: str | Path) -> list[SyncRule]:
    """Rules from a YAML file or from every ``*.yaml`` / ``*.yml`` file of a folder."""
    p = Path(path)
    if p.is_dir():
        files = sorted([*p.glob("*.yaml"), *p.glob("*.yml")])
        if not files:
            raise ConfigurationError(f"{p}: no .yaml files")
        return [r for f in files for r in load_rules_text(f.read_text("utf-8"), str(f))]
    if not p.exists():
        raise ConfigurationError(f"{p}: no such file")
    return load_rules_text(p.read_text("utf-8"), str(p))


def dump_rules(rules: Iterable[SyncRule]) -> str:
    return yaml.safe_dump({"rules": [r.to_dict() for r in rules]}, sort_keys=False,
                          allow_unicode=True, width=100)


def file_name(rule: SyncRule) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", rule.name).strip("_") + ".yaml"


def write_rules(rules: Iterable[SyncRule], path: str | Path) -> list[Path]:
    """One file per rule into a folder, or every rule into one file (path ending in .yaml)."""
    p = Path(path)
    rules = list(rules)
    if p.suffix in (".yaml", ".yml"):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(dump_rules(rules), "utf-8")
        return [p]
    p.mkdir(parents=True, exist_ok=True)
    written = []
    for r in rules:
        f = p / file_name(r)
        f.write_text(yaml.safe_dump(r.to_dict(), sort_keys=False, allow_unicode=True,
                                    width=100), "utf-8")
        written.append(f)
    return written


def builtin_text(name: str) -> str:
    """The text of a rule set shipped with idsync, placeholders and all: ``builtin/<name>.yaml``
    (``outofbox``: Azure AD Connect's out-of-box rules, ``rules.outofbox``; ``writeback``: group
    writeback's, ``idsync.writeback``; ``directory-to-directory``: the demo's)."""
    resource = importlib.resources.files("idsync.rules") / "builtin" / f"{name}.yaml"
    if not resource.is_file():
        raise ConfigurationError(f"no built-in rule set named {name!r}")
    return resource.read_text("utf-8")


def builtin_rule_set(name: str, **substitutions: str) -> list[SyncRule]:
    """A rule set shipped in ``idsync/rules/builtin/<name>.yaml``; ``{connector}``-style
    placeholders name the connectors it links."""
    text = builtin_text(name)
    for key, value in substitutions.items():
        text = text.replace("{" + key + "}", value)
    return load_rules_text(text, f"built-in rule set {name}")
