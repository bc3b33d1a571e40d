"""Configuration export and import, for a swing migration or a rebuild.

``export`` writes readable YAML files: ``idsync-config.yaml`` (manifest, API versions),
``connectors/<name>.yaml`` (type and settings; secrets left out, or encrypted with a passphrase),
``rules/<rule>.yaml`` and ``server.yaml`` (scheduler settings, deletion threshold, engine
settings). ``import`` applies them to an empty workspace with staging mode on, so the new server
imports and synchronizes, and shows its pending exports, before anything is sent. Objects are
not exported: the new server imports them and joins them by anchor / sourceAnchor.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import yaml
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from idsync import __version__
from idsync.administration.rule_changes import save_rules
from idsync.connectors.settings import SettingError
from idsync.connectors.settings import validate as validate_settings
from idsync.errors import ConfigurationError
from idsync.events import EventId
from idsync.rules.files import load_rules, write_rules
from idsync.scheduler.settings import (
    SETTINGS_KEY,
    load_settings,
    save_settings,
    set_staging_mode,
    settings_from_dict,
)
from idsync.secrets.files import private_dir, private_file
from idsync.store import Store
from idsync.store.database import utcnow

FORMAT = 1
MANIFEST = "idsync-config.yaml"
#: Server settings carried over besides the scheduler's.
SERVER_SETTINGS = ("export_deletion_threshold", "parameters", "multivalued_attributes",
                   "mv_reference_attributes",
                   # the data-safety limits (idsync.engine.deletion_limits, member_removals,
                   # import_guards): a staging server built from this file guards alike
                   "deletion_limits", "deletion_limit_default", "member_removal_limits",
                   "attribute_change_limits",
                   # how long a lock of a silent holder on another host lives (idsync.locks)
                   "lock_lease_seconds",
                   # group writeback's OU and connectors (idsync.writeback.copies): the new
                   # server never takes a written-back copy for one of its own groups
                   "group_writeback")
API_VERSION_KEYS = ("export_api_version", "import_api_version")


def _dump(path: Path, data: Any) -> None:
    # Owner-only (0600, folders 0700): a connector's file may hold its sealed secrets.
    private_dir(path.parent)
    private_file(path)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100),
                    "utf-8")


def _fernet(passphrase: str, salt: bytes) -> Fernet:
    key = Scrypt(salt=salt, length=32, n=2**15, r=8, p=1).derive(passphrase.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def export_config(store: Store, folder: str | Path, *, passphrase: str | None = None) -> Path:
    out = Path(folder).expanduser()
    if out.exists() and any(out.iterdir()):
        raise ConfigurationError(f"{out} is not empty; export into a new folder")
    private_dir(out)
    salt = os.urandom(16)
    fernet = _fernet(passphrase, salt) if passphrase else None
    api_versions: dict[str, dict[str, int]] = {}
    for c in store.connectors.list():
        doc: dict[str, Any] = {"name": c.name, "type": c.type, "settings": c.settings}
        if c.secrets and fernet is not None:
            doc["secrets_encrypted"] = {k: fernet.encrypt(v.encode()).decode()
                                        for k, v in sorted(c.secrets.items())}
        elif c.secrets:
            # Left out: the import asks for them (or `idsync connector set --secret`).
            doc["secrets_left_out"] = sorted(c.secrets)
        if c.unreadable_secrets:
            # Secrets the workspace key cannot open cannot be carried: the import asks for them.
            doc["secrets_left_out"] = sorted({*doc.get("secrets_left_out", ()),
                                              *c.unreadable_secrets})
        _dump(out / "connectors" / f"{c.name}.yaml", doc)
        if c.type == "cloud":
            api_versions[c.name] = {k: int(c.settings.get(k, 2)) for k in API_VERSION_KEYS}
    write_rules(store.rules.list(), out / "rules")
    server = {"scheduler": store.settings.get(SETTINGS_KEY) or {}}
    server.update({k: store.settings.get(k) for k in SERVER_SETTINGS
                   if store.settings.get(k) is not None})
    _dump(out / "server.yaml", server)
    _dump(out / MANIFEST, {
        "format": FORMAT, "idsync_version": __version__, "exported_at": utcnow(),
        "schema_version": store.db.schema_version(),
        "connectors": [c.name for c in store.connectors.list()],
        "api_versions": api_versions,
        "secrets": "encrypted" if fernet else "left out",
        "secrets_salt": base64.b64encode(salt).decode() if fernet else None})
    return out


def _load(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"{path}: {exc}") from exc


def import_config(store: Store, folder: str | Path, *, passphrase: str | None = None,
                  secrets: dict[str, dict[str, str]] | None = None,
                  api_versions: dict[str, int] | None = None) -> dict[str, Any]:
    """Apply an exported configuration to an empty workspace, staging mode on. ``secrets`` is
    connector -> key -> value for secrets the export left out; ``api_versions`` sets the cloud
    connectors' export/import API version (a V2 server built from a V1 server's export)."""
    src = Path(folder).expanduser()
    manifest = _load(src / MANIFEST) if (src / MANIFEST).exists() else None
    if not manifest or manifest.get("format") != FORMAT:
        raise ConfigurationError(f"{src} holds no idsync configuration export ({MANIFEST})")
    if store.connectors.list():
        raise ConfigurationError("this workspace already has connectors; import a "
                                 "configuration into a new workspace")
    fernet = None
    if manifest.get("secrets") == "encrypted":
        if not passphrase:
            raise ConfigurationError("the export holds encrypted secrets: give the passphrase")
        fernet = _fernet(passphrase, base64.b64decode(manifest["secrets_salt"]))
    docs = [_load(src / "connectors" / f"{name}.yaml") for name in manifest["connectors"]]
    for name, doc in zip(manifest["connectors"], docs, strict=True):
        try:
            # Refused like `connector add` refuses them: nothing is imported then.
            validate_settings(str(doc.get("type")), doc.get("settings") or {})
        except SettingError as exc:
            raise SettingError(f"connectors/{name}.yaml: {exc}") from None
    secrets = secrets or {}
    for doc in docs:
        wanted = set(doc.get("secrets_left_out") or [])
        missing = wanted - set(secrets.get(doc["name"], {}))
        if missing:
            raise ConfigurationError(
                f"connector {doc['name']}: the export left out its secret(s) "
                f"{', '.join(sorted(missing))}; give them with --secret "
                f"{doc['name']}.KEY (prompt), --secret-file {doc['name']}.KEY=PATH or "
                f"--secret-env {doc['name']}.KEY=VAR")
    with store.transaction():
        for doc in docs:
            plain = dict(secrets.get(doc["name"], {}))
            if fernet is not None:
                try:
                    plain.update({k: fernet.decrypt(v.encode()).decode() for k, v in
                                  (doc.get("secrets_encrypted") or {}).items()})
                except InvalidToken as exc:
                    raise ConfigurationError("wrong passphrase for the secrets") from exc
            settings = dict(doc.get("settings") or {})
            if api_versions and doc["type"] == "cloud":
                settings.update({k: int(api_versions[k]) for k in API_VERSION_KEYS
                                 if k in api_versions})
            store.connectors.add(doc["name"], doc["type"], settings, plain)
        rules_dir = src / "rules"
        rules = load_rules(rules_dir) if rules_dir.is_dir() and any(rules_dir.iterdir()) else []
        save_rules(store, rules, installing_builtin=True)
        server = _load(src / "server.yaml") or {}
        scheduler = settings_from_dict({**vars(load_settings(store)),
                                        **(server.get("scheduler") or {})})
        # A new server's first cycle is an initial one, whatever the source server was at.
        scheduler.next_cycle_policy = "initial"
        save_settings(store, scheduler)
        for key in SERVER_SETTINGS:
            if key in server:
                store.settings.set(key, server[key])
        set_staging_mode(store, True)
        store.events.add(int(EventId.CONFIG_IMPORTED), "information",
                         f"configuration imported from {src}: {len(docs)} connector(s), "
                         f"{len(rules)} rule(s); staging mode on")
    return {"connectors": [d["name"] for d in docs], "rules": len(rules), "staging_mode": True}
