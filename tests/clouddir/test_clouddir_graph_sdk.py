"""The official Microsoft Graph SDK for Python (msgraph-sdk), pointed at clouddir."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.harness.clouddir_server import CloudDirTenant


def graph_client(tenant: CloudDirTenant) -> Any:
    # Imported here: msgraph takes seconds to import, paid only by the worker running this.
    from kiota_abstractions.authentication import (
        AccessTokenProvider,
        AllowedHostsValidator,
        BaseBearerTokenAuthenticationProvider,
    )
    from msgraph import GraphServiceClient
    from msgraph.graph_request_adapter import GraphRequestAdapter

    class StaticToken(AccessTokenProvider):
        async def get_authorization_token(self, uri: str,
                                          additional_authentication_context: Any = None) -> str:
            return tenant.token

        def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
            return AllowedHostsValidator([])

    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticToken()))
    adapter.base_url = f"{tenant.url}/v1.0"
    return GraphServiceClient(request_adapter=adapter)


async def scenario(tenant: CloudDirTenant) -> None:
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.models.group import Group
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError
    from msgraph.generated.models.password_profile import PasswordProfile
    from msgraph.generated.models.reference_create import ReferenceCreate
    from msgraph.generated.models.user import User
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder

    client = graph_client(tenant)
    base = f"{tenant.url}/v1.0"
    users = []
    for name in ("adele", "alex", "megan"):
        users.append(await client.users.post(User(
            account_enabled=True, display_name=name.title(), mail_nickname=name,
            user_principal_name=f"{name}@contoso.test",
            password_profile=PasswordProfile(password="x", force_change_password_next_sign_in=True),
        )))
    assert users[0].id and users[0].user_principal_name == "adele@contoso.test"

    fetched = await client.users.by_user_id(users[1].id).get()
    assert fetched.display_name == "Alex"
    await client.users.by_user_id(users[1].id).patch(User(job_title="Engineer"))
    assert (await client.users.by_user_id(users[1].id).get()).job_title == "Engineer"

    query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
        filter="startswith(displayName,'A')", select=["id", "displayName"], top=1, count=True)
    config = RequestConfiguration(query_parameters=query)
    config.headers.add("ConsistencyLevel", "eventual")
    page = await client.users.get(request_configuration=config)
    assert page.odata_count == 2 and len(page.value) == 1 and page.odata_next_link

    group = await client.groups.post(Group(display_name="Team", mail_enabled=True,
                                           mail_nickname="team", security_enabled=False,
                                           group_types=["Unified"]))
    for user in users:
        await client.groups.by_group_id(group.id).members.ref.post(
            ReferenceCreate(odata_id=f"{base}/directoryObjects/{user.id}"))
    members = await client.groups.by_group_id(group.id).members.get()
    assert sorted(m.id for m in members.value) == sorted(u.id for u in users)
    await client.groups.by_group_id(group.id).members.by_directory_object_id(
        users[0].id).ref.delete()
    members = await client.groups.by_group_id(group.id).members.get()
    assert len(members.value) == 2

    delta = await client.groups.delta.get()
    assert delta.odata_delta_link and [g.id for g in delta.value] == [group.id]

    await client.users.by_user_id(users[2].id).delete()
    with pytest.raises(ODataError) as missing:
        await client.users.by_user_id(users[2].id).get()
    assert missing.value.error.code == "Request_ResourceNotFound"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_msgraph_sdk_against_clouddir(clouddir: CloudDirTenant) -> None:
    asyncio.run(scenario(clouddir))
