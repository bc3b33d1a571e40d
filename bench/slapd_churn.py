"""How long slapd itself takes to apply the suite's churn (not idsync: the LDAP side only).

Deleting a member of a 250,000-member group (directly, or through memberof's referential
integrity when a user is deleted) made applying L's 1% churn take ~25 minutes. Two modes:

    # one group of --members users: N single-member deletes, N adds, and user deletes
    .venv/bin/python -m bench.slapd_churn micro [--members 250000] [--ops 100] [--variant V]
    # the size's slapd built as the suite builds it, then churn() for each base, timed
    .venv/bin/python -m bench.slapd_churn suite --size L [--bases 10000,250000] [--variant V]

``--variant`` picks the slapd config: ``default`` (what SlapdConfig gives: no member index),
``plain`` / ``sortvals`` / ``multival`` / ``both`` (with the member index, as before), and the
same four prefixed ``noindex-`` (``noindex`` is ``default``).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

from idsync.lab.ldapdata import DirectoryShape, big_group_dn, generate, user_dn
from idsync.lab.slapd import SlapdConfig, SlapdServer

SORTVALS = ("member", "uniqueMember", "memberUid")
MULTIVAL = "member,uniqueMember,memberUid 100,50"
VARIANTS = {
    "default": {},
    "plain": {"sortvals": (), "multival": "", "member_index": True},
    "sortvals": {"sortvals": SORTVALS, "multival": "", "member_index": True},
    "multival": {"sortvals": (), "multival": MULTIVAL, "member_index": True},
    "both": {"sortvals": SORTVALS, "multival": MULTIVAL, "member_index": True},
    "noindex": {"sortvals": (), "multival": "", "member_index": False},
    "noindex-sortvals": {"sortvals": SORTVALS, "multival": "", "member_index": False},
    "noindex-multival": {"sortvals": (), "multival": MULTIVAL, "member_index": False},
    "noindex-both": {"sortvals": SORTVALS, "multival": MULTIVAL, "member_index": False},
}


def config(variant: str) -> SlapdConfig:
    return replace(SlapdConfig(), **VARIANTS[variant])


def timed(label: str, fn, count: int) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    fn()
    seconds = time.perf_counter() - t
    print(f"  {label:<34} {count:>6,} ops {seconds:8.2f} s  "
          f"{1000 * seconds / max(1, count):8.1f} ms/op", flush=True)
    return seconds


def micro(members: int, ops: int, variant: str) -> None:
    import ldap

    shape = DirectoryShape(users=members + ops, groups=0, big_group=members, minimal=True)
    server = SlapdServer(config(variant))
    try:
        server.init()
        path = server.dir / "micro.ldif"
        t = time.perf_counter()
        with path.open("w", encoding="utf-8") as out:
            out.writelines(generate(shape))
        server.slapadd(path)
        path.unlink()
        server.start()
        print(f"variant {variant}: {members:,}-member group loaded in "
              f"{time.perf_counter() - t:.1f} s", flush=True)
        group = big_group_dn(shape)
        conn = server.connect()
        try:
            def change(op: int, numbers: range) -> None:
                for n in numbers:
                    conn.modify_s(group, [(op, "member", [user_dn(shape, n).encode()])])

            def deletes() -> None:
                change(ldap.MOD_DELETE, range(1, ops + 1))

            def adds() -> None:
                change(ldap.MOD_ADD, range(members + 1, members + ops + 1))

            def user_deletes() -> None:
                for n in range(ops + 1, ops + ops // 5 + 1):
                    conn.delete_s(user_dn(shape, n))

            timed("single-member deletes", deletes, ops)
            timed("single-member adds", adds, ops)
            timed("user deletes (memberof refint)", user_deletes, ops // 5)
        finally:
            conn.unbind_s()
    finally:
        server.close()


def suite(size: str, bases: list[int], variant: str) -> None:
    from bench.suite import SIZES, ChurnState, build_slapd, churn, churn_label

    shape = SIZES[size]
    t = time.perf_counter()
    server = build_slapd(shape, config=config(variant))
    print(f"variant {variant}: {size} built in {time.perf_counter() - t:.1f} s", flush=True)
    try:
        state = ChurnState()
        for i, base in enumerate(bases):
            t = time.perf_counter()
            ops, _membership = churn(server, shape, base, seed=7 + i, state=state)
            print(f"  churn {churn_label(base)}: {ops:,} LDAP changes applied in "
                  f"{time.perf_counter() - t:.1f} s", flush=True)
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    m = sub.add_parser("micro")
    m.add_argument("--members", type=int, default=250_000)
    m.add_argument("--ops", type=int, default=100)
    m.add_argument("--variant", choices=sorted(VARIANTS), default="default")
    s = sub.add_parser("suite")
    s.add_argument("--size", default="L")
    s.add_argument("--bases", default=None, help="comma-separated churn bases")
    s.add_argument("--variant", choices=sorted(VARIANTS), default="default")
    args = parser.parse_args()
    if args.mode == "micro":
        micro(args.members, args.ops, args.variant)
    else:
        from bench.suite import default_churn_bases

        bases = ([int(x) for x in args.bases.split(",")] if args.bases
                 else default_churn_bases(args.size))
        suite(args.size, bases, args.variant)


if __name__ == "__main__":
    main()
