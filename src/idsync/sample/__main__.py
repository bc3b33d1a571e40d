"""``python -m idsync.sample --users N --groups M -o FILE``: write a sample directory."""

from __future__ import annotations

import time

import click

from idsync.sample.generator import generate_directory


@click.command()
@click.option("--users", default=1000, show_default=True, help="Number of users.")
@click.option("--groups", default=100, show_default=True, help="Number of groups.")
@click.option("--contacts", type=int, default=None, help="Number of contacts [users // 20].")
@click.option("--seed", default=1, show_default=True, help="Same seed, same file.")
@click.option("--large-group-size", type=int, default=None,
              help="Members of 'All Employees' [every active user].")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="LDIF file to write.")
def main(users: int, groups: int, contacts: int | None, seed: int,
         large_group_size: int | None, output: str) -> None:
    """Write a deterministic Contoso sample directory as LDIF."""
    started = time.perf_counter()
    summary = generate_directory(output, users=users, groups=groups, seed=seed,
                                 contacts=contacts, large_group_size=large_group_size)
    click.echo(
        f"{output}: {summary.users} users ({summary.disabled_users} disabled), "
        f"{summary.groups} groups (largest {summary.largest_group}), {summary.contacts} "
        f"contacts, {summary.memberships} memberships in {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
