"""Connector types by name. Each type is a module with ``create_connector(name, settings,
secrets, workspace)``; importing lazily keeps python-ldap and httpx out of runs that do not
need them."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from idsync.connectors.base import Connector
from idsync.errors import ConfigurationError
from idsync.model import ConnectorRecord
from idsync.secrets.cipher import SecretsUnavailable, unavailable_message
from idsync.secrets.keys import KeyRing

CONNECTOR_TYPES = {
    "file": "idsync.connectors.file",
    "ldap": "idsync.connectors.ldap",
    "cloud": "idsync.connectors.cloud",
    "graph": "idsync.connectors.graph",
}


def create(record: ConnectorRecord, workspace: str) -> Connector:
    module_name = CONNECTOR_TYPES.get(record.type)
    if module_name is None:
        raise ConfigurationError(
            f"connector {record.name!r} has unknown type {record.type!r}; known types: "
            + ", ".join(sorted(CONNECTOR_TYPES)))
    if record.unreadable_secrets:
        # A connector without its password would bind anonymously or fail obscurely.
        raise SecretsUnavailable(unavailable_message(
            record.name, list(record.unreadable_secrets), KeyRing(Path(workspace).expanduser())))
    try:
        module: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ConfigurationError(missing_module_message(exc)) from exc
    return module.create_connector(record.name, record.settings, record.secrets, workspace)


#: The optional packages a connector type needs, and how to get them.
_EXTRAS = {"ldap": "python-ldap is not installed (the ldap connector needs it): run `bash "
                   "scripts/setup.sh --all`, or `pip install 'idsync[ldap]'`",
           "pyasn1": "pyasn1 is not installed (the ldap connector needs it): run `bash "
                     "scripts/setup.sh --all`, or `pip install 'idsync[ldap]'`"}


def missing_module_message(exc: ModuleNotFoundError) -> str:
    top = (exc.name or "").split(".")[0]
    return _EXTRAS.get(top, f"the Python package {top!r} is not installed: run `bash "
                            "scripts/setup.sh --all` (or install it into idsync's environment)")
