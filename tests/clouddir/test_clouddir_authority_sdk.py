"""onPremisesSyncBehavior through Microsoft's own msgraph-sdk, pointed at clouddir: read it,
switch it, and read it with $select on a user and a group."""

from __future__ import annotations

import asyncio

from test_clouddir_graph_sdk import graph_client
from tests.harness.clouddir_server import CloudDirTenant, group, make_users


async def scenario(tenant: CloudDirTenant, user_id: str, group_id: str) -> None:
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.models.on_premises_sync_behavior import OnPremisesSyncBehavior
    from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder

    client = graph_client(tenant)
    behavior = await client.users.by_user_id(user_id).on_premises_sync_behavior.get()
    assert behavior.is_cloud_managed is False and behavior.id == user_id
    await client.users.by_user_id(user_id).on_premises_sync_behavior.patch(
        OnPremisesSyncBehavior(is_cloud_managed=True))
    await client.groups.by_group_id(group_id).on_premises_sync_behavior.patch(
        OnPremisesSyncBehavior(is_cloud_managed=True))
    query = UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(
        select=["id", "onPremisesSyncBehavior"])
    user = await client.users.by_user_id(user_id).get(
        request_configuration=RequestConfiguration(query_parameters=query))
    assert user.on_premises_sync_behavior.is_cloud_managed is True
    behavior = await client.groups.by_group_id(group_id).on_premises_sync_behavior.get()
    assert behavior.is_cloud_managed is True
    await client.groups.by_group_id(group_id).on_premises_sync_behavior.patch(
        OnPremisesSyncBehavior(is_cloud_managed=False))
    behavior = await client.groups.by_group_id(group_id).on_premises_sync_behavior.get()
    assert behavior.is_cloud_managed is False


def test_sdk_reads_and_switches_the_source_of_authority(clouddir: CloudDirTenant) -> None:
    [user_id] = make_users(clouddir, 1)
    [g] = clouddir.export_ok(2, [group("g", "G1", {"add": [user_id]})])
    asyncio.run(scenario(clouddir, user_id, g["id"]))
