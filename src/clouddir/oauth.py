"""The OAuth 2.0 endpoints of a tenant, shaped like Entra's so MSAL uses them unchanged: the
OpenID configuration document and the token endpoint's client credentials grant (a client
secret, or a client assertion signed by a registered certificate's key).

Refusals are Entra's (clouddir.oauth_errors); nothing a client sends ends in a 500."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clouddir.apps import secret_matches
from clouddir.oauth_assertion import JWT_BEARER, check_assertion
from clouddir.oauth_errors import OAuthError, missing
from clouddir.responses import json_response
from clouddir.service import Service

GRAPH_RESOURCES = ("https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
#: Form fields a token request may carry at most (MSAL sends about eight).
MAX_FIELDS = 50
NO_STORE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}


def _origin(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _tenant_exists(service: Service, tenant_id: str) -> bool:
    # Tenant ids are GUIDs: anything else (a NUL PostgreSQL would refuse) is not looked up.
    return bool(_GUID.match(tenant_id)) and service.store.tenant_exists(tenant_id)


def _unknown_tenant(tenant_id: str, error: str = "invalid_request") -> OAuthError:
    return OAuthError(400, error, 90002, f"Tenant '{tenant_id}' not found. Check to make sure "
                      "you have the correct tenant ID and are signing into the correct cloud.")


def _error(refused: OAuthError) -> Response:
    return json_response(refused.body(), refused.status, NO_STORE)


async def openid_configuration(request: Request) -> Response:
    service: Service = request.app.state.service
    tenant_id = request.path_params["tenant"]
    if not await run_in_threadpool(_tenant_exists, service, tenant_id):
        return _error(_unknown_tenant(tenant_id, "invalid_tenant"))
    base = f"{_origin(request)}/{tenant_id}"
    return json_response({
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
        "jwks_uri": f"{base}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{base}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"{_origin(request)}/oidc/userinfo",
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "ver"],
        "grant_types_supported": ["client_credentials"],
        "tenant_region_scope": None,
        "cloud_instance_name": "clouddir",
    })


async def keys(request: Request) -> Response:
    """No signing keys: clouddir's access tokens are opaque (nothing to verify offline)."""
    return json_response({"keys": []})


def _form(body: bytes) -> dict[str, str]:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                          max_num_fields=MAX_FIELDS, strict_parsing=False)
    except (UnicodeDecodeError, ValueError) as exc:
        raise OAuthError(400, "invalid_request", 900144, "The request body must be a form "
                         f"(application/x-www-form-urlencoded, UTF-8, at most {MAX_FIELDS} "
                         "fields).") from exc
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise OAuthError(400, "invalid_request", 90015, f"The parameter '{name}' is "
                             "given more than once.")
        form[name] = value
    return form


def _check_scope(scope: str, origin: str) -> None:
    items = scope.split()
    if len(items) != 1 or not items[0].endswith("/.default"):
        raise OAuthError(400, "invalid_scope", 1002012, f"The provided value for scope "
                         f"{scope} is not valid. Client credential flows must have a scope "
                         "value with /.default suffixed to the resource identifier "
                         "(application ID URI).")
    resource = items[0][:-len("/.default")].rstrip("/")
    if resource not in (*GRAPH_RESOURCES, origin):
        raise OAuthError(400, "invalid_scope", 500011, f"The resource principal named "
                         f"{resource} was not found in the tenant. Scopes name "
                         f"https://graph.microsoft.com/.default or {origin}/.default.")


def issue_token(service: Service, tenant_id: str, form: dict[str, str],
                origin: str) -> dict[str, Any]:
    """The token answer for a client credentials request, or ``OAuthError``."""
    store = service.store
    if not _tenant_exists(service, tenant_id):
        raise _unknown_tenant(tenant_id)
    grant_type = form.get("grant_type")
    if not grant_type:
        raise missing("grant_type")
    if grant_type != "client_credentials":
        raise OAuthError(400, "unsupported_grant_type", 70003, "The app requested an "
                         f"unsupported grant type '{grant_type}'.")
    client_id = form.get("client_id")
    if not client_id:
        raise missing("client_id")
    if not form.get("scope"):
        raise missing("scope")
    _check_scope(form["scope"], origin)
    app = store.app(client_id.lower()) if _GUID.match(client_id) else None
    if app is None or app.tenant_id != tenant_id:
        raise OAuthError(400, "unauthorized_client", 700016, f"Application with identifier "
                         f"'{client_id}' was not found in the directory '{tenant_id}'. This "
                         "can happen if the application has not been installed by the "
                         "administrator of the tenant.")
    secret, assertion = form.get("client_secret"), form.get("client_assertion")
    if secret and assertion:
        raise OAuthError(400, "invalid_request", 90014, "Give either 'client_secret' or "
                         "'client_assertion', not both.")
    if secret:
        if not secret_matches(app, secret):
            raise OAuthError(401, "invalid_client", 7000215, "Invalid client secret provided. "
                             "Ensure the secret being sent in the request is the client secret "
                             f"value, not the client secret ID, for a secret added to app "
                             f"'{app.client_id}'.")
    elif assertion:
        if form.get("client_assertion_type") != JWT_BEARER:
            raise OAuthError(400, "invalid_request", 90014, "The 'client_assertion_type' "
                             f"parameter must be '{JWT_BEARER}'.")
        endpoint = f"{origin}/{tenant_id}/oauth2/v2.0/token"
        check_assertion(store, app, assertion, endpoint, time.time(),
                        bool(service.limits.refuse_assertion_replay))
    else:
        raise OAuthError(401, "invalid_client", 7000218, "The request body must contain the "
                         "following parameter: 'client_assertion' or 'client_secret'.")
    token, lifetime = service.access_tokens.issue(tenant_id, app.client_id)
    return {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
            "access_token": token}


async def token(request: Request) -> Response:
    service: Service = request.app.state.service
    tenant_id = request.path_params["tenant"]
    media_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    try:
        if media_type != "application/x-www-form-urlencoded":
            raise OAuthError(400, "invalid_request", 900144, "The request body must be "
                             "application/x-www-form-urlencoded and contain the following "
                             "parameter: 'grant_type'.")
        form = _form(await request.body())
        answer = await run_in_threadpool(issue_token, service, tenant_id, form,
                                         _origin(request))
    except OAuthError as refused:
        return _error(refused)
    return json_response(answer, 200, NO_STORE)


routes = [
    Route("/{tenant:str}/v2.0/.well-known/openid-configuration", openid_configuration),
    Route("/{tenant:str}/discovery/v2.0/keys", keys),
    Route("/{tenant:str}/oauth2/v2.0/token", token, methods=["POST"]),
]
