"""Service limits, as settings so tests can lower them.

Defaults are the real service's: 50,000 members per group under v1, 250,000 under v2, 7,000
writes per 5 minutes per tenant. Every field can be set from the environment
(``CLOUDDIR_<FIELD>``, upper case) or from ``clouddir serve --limit field=value``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace


@dataclass(frozen=True, slots=True)
class Limits:
    v1_member_limit: int = 50_000
    v2_member_limit: int = 250_000
    v1_batch_size: int = 100
    v2_batch_size: int = 500
    #: Member references per v2 request (AAD: MaxLinksSupportedAcrossBatchInProvision 15000).
    v2_max_links: int = 15_000
    #: Writes per tenant per window; a batch costs one write per change.
    write_budget: int = 7_000
    write_window: float = 300.0
    import_page_size: int = 500
    member_page_size: int = 5_000
    max_certificates: int = 15
    #: Request body limits (413 past them): the sync API's largest legitimate request is a v2
    #: ``replace`` of 250,000 member references (about 10 MB as ids, 40 MB as DNs); the Graph
    #: face's is a $batch of 20 single-object requests.
    max_request_bytes: int = 64 * 1024 * 1024
    max_graph_request_bytes: int = 4 * 1024 * 1024
    #: All attribute values of one object together (Entra: Directory_ResourceSizeExceeded).
    max_object_bytes: int = 1024 * 1024
    #: Objects per tenant unless the tenant has its own quota (Entra's default quota for a
    #: tenant with a verified domain is 300,000 objects).
    max_objects: int = 300_000
    #: Bytes per tenant unless the tenant has its own storage quota (clouddir.storage.quotas;
    #: docs/decisions/clouddir-limits.md says why 2 GiB).
    max_tenant_bytes: int = 2 * 1024 ** 3
    #: Seconds an access token from the OAuth token endpoint lasts (Entra: 60 to 90 minutes).
    token_lifetime: int = 3600
    #: 1: refuse a client assertion whose jti was seen while it is valid. Off by default, as
    #: Entra: MSAL reuses one assertion (one jti) for 9 minutes (docs/decisions/clouddir-oauth.md).
    refuse_assertion_replay: int = 0

    def as_dict(self) -> dict[str, float | int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def updated(self, values: Mapping[str, str]) -> Limits:
        """A copy with ``values`` (strings, from the CLI or environment) applied."""
        known = {f.name: f.type for f in fields(self)}
        changes: dict[str, float | int] = {}
        for name, raw in values.items():
            if name not in known:
                raise ValueError(f"unknown limit {name!r}; known: {', '.join(sorted(known))}")
            changes[name] = float(raw) if known[name] == "float" else int(raw)
        # Each value has its field's type (float or int, as ``known`` says), which mypy
        # cannot follow through the name.
        return replace(self, **changes)  # type: ignore[arg-type]


def limits_from_env(environ: Mapping[str, str] | None = None) -> Limits:
    env = os.environ if environ is None else environ
    values = {}
    for f in fields(Limits):
        key = f"CLOUDDIR_{f.name.upper()}"
        if key in env:
            values[f.name] = env[key]
    return Limits().updated(values)
