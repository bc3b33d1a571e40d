"""The graph connector's settings (a Microsoft Entra ID tenant, or clouddir, through Microsoft
Graph), and the Graph attributes it reads: declared here, without httpx or msal, so settings
are checked where the connector's packages are not loaded."""

from __future__ import annotations

from typing import Any

from idsync.connectors.settings.schema import ConnectorSchema, Kind, Setting, SettingError

#: CS attribute names are Graph property names (contract B of issue 18).
USER_ATTRIBUTES = ("userPrincipalName", "displayName", "mailNickname", "givenName", "surname",
                   "mail", "accountEnabled", "onPremisesImmutableId", "employeeId", "jobTitle",
                   "department", "usageLocation", "proxyAddresses", "manager")
GROUP_ATTRIBUTES = ("displayName", "mailNickname", "description", "mail", "securityEnabled",
                    "mailEnabled", "groupTypes", "proxyAddresses", "members")
MULTIVALUED = frozenset({"proxyAddresses", "groupTypes", "members"})
REFERENCES = frozenset({"manager", "members"})
OBJECT_TYPES = ("user", "group")
#: Graph's largest page ($top) for users, groups and members.
MAX_PAGE_SIZE = 999
#: Secrets: never settings (they would be stored and shown in clear).
SECRETS = ("client_secret", "certificate_key", "certificate_thumbprint")

_SECRET_REFUSAL = ("{key} is a secret, not a setting: give it with `--secret-file {key}=PATH` "
                   "(or `--secret {key}`)")


def _attributes_known(values: dict[str, Any]) -> None:
    for key, known in (("user_attributes", USER_ATTRIBUTES),
                       ("group_attributes", GROUP_ATTRIBUTES)):
        unknown = [a for a in values[key] if a not in known]
        if unknown:
            raise SettingError(f"graph setting {key!r}: {unknown[0]!r} is not a Graph "
                               f"attribute of the connector schema; known: {', '.join(known)}")


def _object_types_known(values: dict[str, Any]) -> None:
    unknown = [t for t in values["object_types"] if t not in OBJECT_TYPES]
    if unknown or not values["object_types"]:
        raise SettingError(f"graph setting 'object_types': {unknown[0] if unknown else '[]'!r} "
                           f"is not an object type; expected some of {', '.join(OBJECT_TYPES)}")


def check_credentials(name: str, secrets: dict[str, str] | Any) -> str:
    """Which credential the connector's secrets hold (``secret`` or ``certificate``): exactly
    one of a client secret or a certificate key with its thumbprint, else one clear line."""
    has_secret = bool(secrets.get("client_secret"))
    has_key = bool(secrets.get("certificate_key"))
    has_thumbprint = bool(secrets.get("certificate_thumbprint"))
    if has_secret and (has_key or has_thumbprint):
        raise SettingError(f"connector {name!r}: give either the secret 'client_secret' or "
                           "'certificate_key' with 'certificate_thumbprint', not both")
    if has_secret:
        return "secret"
    if has_key and has_thumbprint:
        return "certificate"
    if has_key or has_thumbprint:
        missing = "certificate_thumbprint" if has_key else "certificate_key"
        raise SettingError(f"connector {name!r}: the certificate credential needs the secret "
                           f"{missing!r} too")
    raise SettingError(f"connector {name!r}: no credential: give the secret 'client_secret', or "
                       "'certificate_key' (private key PEM) with 'certificate_thumbprint'")


SCHEMA = ConnectorSchema(
    type="graph",
    summary="A Microsoft Entra ID tenant (or clouddir) through Microsoft Graph, authenticated "
            "by MSAL with client credentials. Secrets: `client_secret`, or `certificate_key` "
            "(private key PEM) with `certificate_thumbprint`.",
    settings=(
        Setting("tenant_id", Kind.TEXT, "the directory (tenant) id", required=True),
        Setting("client_id", Kind.TEXT, "the app registration's application (client) id",
                required=True),
        Setting("authority", Kind.URL, "the token authority; the tenant id is appended",
                default="https://login.microsoftonline.com", schemes=("https",)),
        Setting("graph_url", Kind.URL, "Graph's versioned root",
                default="https://graph.microsoft.com/v1.0", schemes=("https", "http")),
        Setting("object_types", Kind.NAME_LIST, "object types to import and export",
                default=OBJECT_TYPES),
        Setting("user_attributes", Kind.NAME_LIST, "user attributes to read ($select); "
                "default: every user attribute of the connector schema",
                default=USER_ATTRIBUTES),
        Setting("group_attributes", Kind.NAME_LIST, "group attributes to read ($select); "
                "default: every group attribute of the connector schema",
                default=GROUP_ATTRIBUTES),
        Setting("concurrency", Kind.INTEGER, "parallel requests of a full import's member "
                "reads", default=4, minimum=1, maximum=32),
        Setting("write_budget", Kind.INTEGER, "writes sent per `write_window` (client side, "
                "under Graph's directory write throttling)", default=3000, minimum=1,
                maximum=1_000_000),
        Setting("write_window", Kind.NUMBER, "the write budget's window in seconds",
                default=150.0, minimum=0.1, maximum=86400),
        Setting("timeout", Kind.NUMBER, "HTTP timeout in seconds", default=60.0, minimum=0.1,
                maximum=3600),
        Setting("max_retries", Kind.INTEGER, "retries of a throttled (429) or unavailable "
                "(503, 504) request", default=5, minimum=0, maximum=100),
        Setting("page_size", Kind.INTEGER, "objects per page ($top)", default=MAX_PAGE_SIZE,
                minimum=1, maximum=MAX_PAGE_SIZE),
        Setting("tls_ca_file", Kind.PATH, "PEM file of the CA to trust for the authority and "
                "Graph (a private endpoint such as a lab clouddir); default: the system's"),
        Setting("password_length", Kind.INTEGER, "length of the random password a new user "
                "gets", default=24, minimum=8, maximum=256),
    ),
    refused={key: _SECRET_REFUSAL.format(key=key) for key in SECRETS},
    checks=(_object_types_known, _attributes_known),
    notes="""\
**Credentials.** Exactly one: the secret `client_secret`, or the secrets `certificate_key`
(the certificate's private key, PEM) and `certificate_thumbprint` (its SHA-1 thumbprint, hex);
a connector with neither or both is refused when added or set. The token scope is the origin of
`graph_url` + `/.default`.
""",
)
