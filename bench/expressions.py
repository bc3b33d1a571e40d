"""Evaluations per second of typical sync rule expressions, compiled once.

Run: ``.venv/bin/python bench/expressions.py [--seconds 0.5]``. Beside each compiled rate it
prints the rate of parsing and compiling on every evaluation, which is what compiling once saves.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from typing import Any

from idsync.expressions import (
    DictContext,
    ErrorFunctionTriggered,
    Ref,
    compile_expression,
)

USER = DictContext(
    {
        "displayName": "Joe Doe",
        "userPrincipalName": "joe.doe@contoso.local",
        "pwdLastSet": 130543784930000000,
        "description": ["  Sales lead, EMEA  ", "second"],
        "proxyAddresses": ["SMTP:joe@contoso.com", "smtp:jd@contoso.com", "smtp:jd@contoso.com"],
        "groupType": -2147483646,
        "city": "Paris",
        "dn": Ref("cn=Joe Doe,ou=Paris,ou=FR,dc=contoso,dc=com"),
    },
    {"Domain.FQDN": "contoso.com"},
)


class Group(DictContext):
    """A group whose member count is answered without loading members, as the engine does."""

    def __init__(self, members: int) -> None:
        super().__init__({})
        self.members = members

    def value_count(self, name: str) -> int:
        return self.members


RULES: list[tuple[str, str, Any]] = [
    ("direct attribute", "[displayName]", USER),
    ("UPN suffix", 'Word([userPrincipalName],1,"@") & "@" & %Domain.FQDN%', USER),
    (
        "pwdLastSet format",
        "IIF(IsPresent([pwdLastSet]),CStr(FormatDateTime(DateFromNum([pwdLastSet]),"
        '"yyyyMMddHHmmss.0Z")),NULL)',
        USER,
    ),
    (
        "description 448",
        "IIF(IsNullOrEmpty([description]),NULL,Left(Trim(Item([description],1)),448))",
        USER,
    ),
    ("proxyAddresses dedupe", "RemoveDuplicates(Trim([proxyAddresses]))", USER),
    ("security group test", "CBool(BitAnd([groupType],-2147483648))", USER),
    ("OU from DN", 'DNComponentRev([dn],2,"DC")', USER),
    (
        "Switch city",
        'Switch([city] = "London", "English", [city] = "Rome", "Italian", [city] = "Paris", '
        '"French", True, Error("Unknown city"))',
        USER,
    ),
    (
        "member limit (ok)",
        'IIF(ValueCount("member")> 50000,Error("Maximum Group member count exceeded"),'
        "IgnoreThisFlow)",
        Group(40_000),
    ),
    (
        "member limit (error)",
        'IIF(ValueCount("member")> 50000,Error("Maximum Group member count exceeded"),'
        "IgnoreThisFlow)",
        Group(60_000),
    ),
]


def rate(fn: Callable[[], Any], seconds: float) -> float:
    """Calls per second of ``fn``, timed in batches for at least ``seconds``."""
    batch, calls, elapsed = 64, 0, 0.0
    start = time.perf_counter()
    while elapsed < seconds:
        for _ in range(batch):
            fn()
        calls += batch
        elapsed = time.perf_counter() - start
        batch = min(batch * 2, 65_536)
    return calls / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=0.5, help="time per measurement")
    args = parser.parse_args()

    print(
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"{args.seconds}s per measurement\n"
    )
    header = (
        f"{'rule':<24}{'compiled eval/s':>16}{'parse+eval/s':>14}{'ratio':>8}{'compile µs':>12}"
    )
    print(header)
    print("-" * len(header))
    for name, source, context in RULES:
        compiled = compile_expression(source)

        def evaluate(c: Any = compiled, ctx: Any = context) -> Any:
            try:
                return c(ctx)
            except ErrorFunctionTriggered as exc:
                return exc

        def reparse(src: str = source, ctx: Any = context) -> Any:
            try:
                return compile_expression(src)(ctx)
            except ErrorFunctionTriggered as exc:
                return exc

        fast = rate(evaluate, args.seconds)
        slow = rate(reparse, args.seconds)
        compile_us = 1e6 / rate(lambda s=source: compile_expression(s), args.seconds / 2)
        print(f"{name:<24}{fast:>16,.0f}{slow:>14,.0f}{fast / slow:>7.0f}x{compile_us:>12.1f}")


if __name__ == "__main__":
    main()
