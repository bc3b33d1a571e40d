"""The admin API shaped like Microsoft Graph v1.0 (users, groups, contacts, members, $ref,
members@odata.bind, $batch, delta, $select / $top / $filter / $count, nextLink paging)."""

from __future__ import annotations

from starlette.routing import Route

from clouddir.graph import authority
from clouddir.graph import handlers as h
from clouddir.graph import manager_routes as mr
from clouddir.graph.batch import batch
from clouddir.graph.delta import delta

_P = "/v1.0/{collection:str}"

routes = [
    Route("/v1.0/$batch", h.graph_handler(batch), methods=["POST"]),
    Route("/v1.0/directoryObjects/{id:str}", h.graph_handler(h.get_directory_object)),
    Route(_P + "/delta()", h.graph_handler(delta)),
    Route(_P + "/delta", h.graph_handler(delta)),
    Route(_P + "/$count", h.graph_handler(h.count_collection)),
    Route("/v1.0/groups/{id:str}/members", h.graph_handler(h.list_members)),
    Route("/v1.0/groups/{id:str}/members/$ref", h.graph_handler(h.add_member_ref),
          methods=["POST"]),
    Route("/v1.0/groups/{id:str}/members/{member_id:str}/$ref",
          h.graph_handler(h.remove_member_ref), methods=["DELETE"]),
    Route(_P + "/{id:str}/onPremisesSyncBehavior", h.graph_handler(authority.get_behavior),
          methods=["GET"]),
    Route(_P + "/{id:str}/onPremisesSyncBehavior", h.graph_handler(authority.patch_behavior),
          methods=["PATCH"]),
    Route("/v1.0/users/{id:str}/manager", h.graph_handler(mr.get_manager)),
    Route("/v1.0/users/{id:str}/manager/$ref", h.graph_handler(mr.get_manager_ref)),
    Route("/v1.0/users/{id:str}/manager/$ref", h.graph_handler(mr.put_manager_ref),
          methods=["PUT"]),
    Route("/v1.0/users/{id:str}/manager/$ref", h.graph_handler(mr.delete_manager_ref),
          methods=["DELETE"]),
    Route("/v1.0/users/{id:str}/directReports", h.graph_handler(mr.direct_reports)),
    Route(_P, h.graph_handler(h.list_collection), methods=["GET"]),
    Route(_P, h.graph_handler(h.create_object), methods=["POST"]),
    Route(_P + "/{id:str}", h.graph_handler(h.get_object), methods=["GET"]),
    Route(_P + "/{id:str}", h.graph_handler(h.patch_object), methods=["PATCH"]),
    Route(_P + "/{id:str}", h.graph_handler(h.delete_object), methods=["DELETE"]),
]
