"""The cloud connector's settings (a clouddir tenant through the sync API v1 or v2)."""

from __future__ import annotations

from idsync.connectors.settings.schema import ConnectorSchema, Kind, Setting

API_VERSIONS = (1, 2)

SCHEMA = ConnectorSchema(
    type="cloud",
    summary="A clouddir tenant through its sync API. Secret: `token` (the tenant's bearer "
            "token).",
    settings=(
        Setting("url", Kind.URL, "the clouddir service, e.g. http://127.0.0.1:8080",
                required=True, schemes=("http", "https")),
        Setting("tenant_id", Kind.TEXT, "the tenant's id", required=True),
        Setting("export_api_version", Kind.INTEGER, "sync API version for exports; 2 sends "
                "member deltas (groups up to 250,000 members), 1 whole lists (50,000 at most)",
                default=2, choices=API_VERSIONS),
        Setting("import_api_version", Kind.INTEGER, "sync API version for imports", default=2,
                choices=API_VERSIONS),
        Setting("timeout", Kind.NUMBER, "HTTP timeout in seconds", default=60.0, minimum=0.1,
                maximum=3600),
        Setting("max_retries", Kind.INTEGER, "retries of a throttled or failed request",
                default=5, minimum=0, maximum=100),
        Setting("batch_size", Kind.INTEGER, "changes per export request; default: the most "
                "the service takes for the API version", minimum=1, maximum=100000),
    ),
    refused={"token": "the token is a secret, not a setting: give it as the connector's "
                      "secret 'token'"},
    notes="""\
**Wiring a tenant.** `clouddir tenant create NAME --json` prints `{"tenant_id": ..., "token":
...}`: the id goes in the `tenant_id` setting, the token in the connector's secret `token`.
Both sync API versions are served; the default is version 2.
""",
)
