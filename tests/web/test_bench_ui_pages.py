"""The page-time benchmark's pure parts (bench/ui_pages.py): every URL of its page list forms
from a built workspace's ids (so an edit of the list that names a missing id fails here, not
after a 250,000-object build), and the percentiles are nearest-rank."""

from __future__ import annotations

from bench.ui_pages import PAGES, Timing, percentile, urls
from bench.ui_workspace import Built

BUILT = Built(objects=10, source="source", target="target", user_cs=12, user_dn="uid=u1,ou=x",
              user_rdn="uid=u1", group_cs=3, group_mv=3, group_target=21, user_mv=9,
              member_after=15,
              account="u1", run_id=40, rule_id=2, seconds=1.0)


def test_every_page_url_forms_from_the_workspace_ids():
    formed = dict(urls(BUILT))
    assert len(formed) == len(PAGES)
    assert formed["/cs/{id} 250k-member group"] == "/cs/3"
    assert formed["/cs/{id}/values/member?after="] == "/cs/3/values/member?after=15"
    assert formed["/connectors/{name} search by RDN"] == "/connectors/source?rdn=uid%3Du1"
    assert all(path.startswith("/") and "{" not in path for path in formed.values())


def test_percentiles_are_nearest_rank():
    samples = [float(x) for x in range(1, 21)]  # 1..20
    assert percentile(samples, 0.5) == 10
    assert percentile(samples, 0.95) == 19
    assert percentile([7.0], 0.95) == 7


def test_a_missing_page_reads_not_built():
    assert Timing("/rules", "/rules", 404).cells() == ["not built", "", ""]
    assert Timing("/x", "/x", 500).cells() == ["HTTP 500", "", ""]
    assert Timing("/x", "/x", 200, 12.4, 30.6, 41.0).cells() == ["12", "31", "41"]
