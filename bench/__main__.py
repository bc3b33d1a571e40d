"""``python -m bench``: the whole benchmark suite in one run (see bench/suite.py)."""

from __future__ import annotations

import argparse

from bench.suite import SIZES, print_table, run_suite, write_json


def _bases(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench",
                                     description="idsync benchmark suite (issue 8)")
    parser.add_argument("--size", choices=sorted(SIZES), default="S")
    parser.add_argument("--json", help="also write the rows (and a header row) to this file")
    parser.add_argument("--database", help="store URL for the idsync workspace "
                                           "(default: SQLite in the workspace)")
    parser.add_argument("--churn-base", type=_bases, default=None, metavar="N[,N...]",
                        help="apply the churn as if the directory had N users, one delta "
                             "cycle per N (default: 10000 at S; 10000 and the size's users "
                             "at M and L, so the same absolute churn as S is in every run)")
    parser.add_argument("--no-v1", action="store_true",
                        help="skip the second initial cycle under sync API v1")
    parser.add_argument("--profile", metavar="DIR",
                        help="write a pyinstrument profile of each delta cycle to DIR")
    args = parser.parse_args()
    head, rows = run_suite(args.size, args.database, args.churn_base, not args.no_v1,
                           profile_dir=args.profile)
    print_table(head, rows)
    if args.json:
        write_json(args.json, head, rows)


if __name__ == "__main__":
    main()
