"""The store reads behind the web UI's connector, connector space and metaverse pages, timed at
250,000 objects in one connector space and a 250,000-member group (issue 17: every page under
300 ms p95). Each row is one page's reads (``administration.object_pages`` and the searches),
repeated; HTTP and template rendering are not in the figure.

Usage: .venv/bin/python bench/spaces_search.py [--objects 250000] [--database URL]
(on PostgreSQL give a URL whose search_path names an empty schema).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from idsync.administration.object_pages import (
    connector_rows,
    cs_object_view,
    cs_values_page,
    mv_object_view,
    mv_values_page,
)
from idsync.model import CSObject
from idsync.store import Store
from idsync.store.connector_space.search import CSQuery
from idsync.store.metaverse import AttributeClause, ClauseOperator

BATCH = 10_000


def _user(connector_id: int, i: int) -> CSObject:
    # one object in a thousand in a small OU: a subtree search that finds few
    ou = "Small" if i % 1000 == 0 else "Users"
    return CSObject(id=0, connector_id=connector_id, anchor=f"a{i}",
                    dn=f"uid=u{i},ou={ou},dc=contoso,dc=com", object_type="person",
                    placeholder=False, attributes={"cn": [f"u{i}"], "mail": [f"u{i}@contoso.com"]},
                    pending_import=None, mv_id=None, link_type=None, link_rule_id=None,
                    link_direction=None)


def load(store: Store, n: int) -> tuple[int, int, int, int]:
    """n users and one group holding them all, in the connector space and the metaverse."""
    with store.transaction():
        cid = store.connectors.add("big", "file", {"path": "big.ldif"}).id
    ids: list[int] = []
    mv_ids: list[int] = []
    for start in range(0, n, BATCH):
        with store.transaction():
            end = min(n, start + BATCH)
            ids += store.cs.insert_many([_user(cid, i) for i in range(start, end)])
            mv_ids += store.mv.create_many(["person"] * (end - start))
    with store.transaction():
        group = store.cs.insert_many([CSObject(
            id=0, connector_id=cid, anchor="g", dn="cn=all,ou=Groups,dc=contoso,dc=com",
            object_type="group", placeholder=False, attributes={"cn": ["all"]},
            pending_import=None, mv_id=None, link_type=None, link_rule_id=None,
            link_direction=None)])[0]
        store.cs.change_refs_many([(group, "member", i) for i in ids], [])
        mv_group = store.mv.create("group")
        store.mv.change_refs_many([(mv_group, "member", i) for i in mv_ids], [])
    return cid, group, mv_group, ids[len(ids) // 2]


def timed(name: str, read: Callable[[], Any], repeat: int) -> list[str]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        read()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    return [name, f"{statistics.median(times):.1f}", f"{p95:.1f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=250_000)
    parser.add_argument("--database", help="store URL (default: SQLite in a temporary folder)")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(Path(folder) / "ws", database=args.database)
        try:
            started = time.perf_counter()
            cid, group, mv_group, middle = load(store, args.objects)
            print(f"loaded {args.objects} objects in {time.perf_counter() - started:.0f} s")
            clause = [AttributeClause("mail", ClauseOperator.STARTS_WITH, "nobody")]
            page: list[tuple[str, Callable[[], Any]]] = [
                ("/connectors", lambda: connector_rows(store)),
                ("search: subtree, first page",
                 lambda: store.cs_search.search_page(cid, CSQuery(
                     subtree="ou=users,dc=contoso,dc=com"))),
                ("search: subtree, a middle page",
                 lambda: store.cs_search.search_page(cid, CSQuery(
                     subtree="ou=users,dc=contoso,dc=com"), after=middle)),
                ("search: subtree of 1 in 1000",
                 lambda: store.cs_search.search_page(cid, CSQuery(
                     subtree="ou=small,dc=contoso,dc=com"))),
                ("search: RDN", lambda: store.cs_search.search_page(cid, CSQuery(
                    rdn=f"uid=u{args.objects // 3}"))),
                ("search: object type group", lambda: store.cs_search.search_page(
                    cid, CSQuery(object_type="group"))),
                ("search: none, a middle page", lambda: store.cs_search.search_page(
                    cid, CSQuery(), after=middle)),
                ("/cs/{group} (250,000 members)", lambda: cs_object_view(store, group)),
                ("/cs/{group}/values/member, a middle page",
                 lambda: cs_values_page(store, group, "member", middle)),
                ("/mv/{group}", lambda: mv_object_view(store, mv_group)),
                ("/mv/{group}/values/member", lambda: mv_values_page(store, mv_group, "member",
                                                                     None)),
                ("/metaverse: a clause no object matches",
                 lambda: store.mv.search_page(clauses=clause)),
            ]
            rows = [timed(name, read, args.repeat) for name, read in page]
        finally:
            store.close()
    width = max(len(r[0]) for r in rows)
    print(f"{'page':{width}}  {'p50 ms':>8}  {'p95 ms':>8}")
    for name, p50, p95 in rows:
        print(f"{name:{width}}  {p50:>8}  {p95:>8}")


if __name__ == "__main__":
    main()
