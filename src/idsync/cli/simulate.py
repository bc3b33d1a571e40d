"""``idsync preview``: what the current configuration would stage, nothing exported or kept;
and the guard the configuration-change commands (``rules ...``, ``connector set``) run their
change through (``apply_guarded``, ``confirm_option``). Not ``idsync export preview``
(cli/preview.py), which lists the exports already pending."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

import click

from idsync.administration.simulation import (
    DEFAULT_SAMPLES,
    Change,
    ChangeHeld,
    ConfigurationPreview,
    guard_change,
    preview_and_record,
    totals_text,
)
from idsync.cli.common import (
    console,
    handle_errors,
    json_option,
    open_store,
    print_json,
    workspace_path,
)
from idsync.cli.root import cli
from idsync.store import Store

T = TypeVar("T")

confirm_option = click.option(
    "--confirm", is_flag=True,
    help="Apply the change even if its preview stages more deletes than the deletion limit "
         "allows (or cannot be computed).")


@cli.command("preview")
@click.option("--connector", help="Only this connector's runs (its effects on every "
                                  "connector are shown).")
@click.option("--samples", type=click.IntRange(0, 1000), default=DEFAULT_SAMPLES,
              show_default=True, help="Objects shown per connector, object type and change.")
@json_option
@click.pass_context
@handle_errors
def preview_command(ctx: click.Context, connector: str | None, samples: int,
                    as_json: bool) -> None:
    """What a full synchronization under the current configuration would stage (and a full
    import where a connector's scope changed): adds, updates, renames, disconnects and deletes
    per connector and object type, with samples, against what is pending now. Runs the real
    engine in a transaction that is rolled back: nothing is exported or kept."""
    store = open_store(ctx)
    result = preview_and_record(store, str(workspace_path(ctx)), connector=connector,
                                samples=samples)
    if as_json:
        print_json(result.to_dict())
        return
    print_preview(store, result)


def apply_guarded(ctx: click.Context, store: Store, what: str, change: Callable[[], T],
                  confirm: bool) -> T:
    """Run a configuration change through the preview guard: kept and summed up in one line
    below the deletion limits; above them, the preview and a ``held:`` line, nothing kept,
    exit 3 (unless ``confirm``)."""
    try:
        done = guard_change(store, str(workspace_path(ctx)), what, change, confirm=confirm)
    except ChangeHeld as held:
        print_preview(store, held.preview)
        console.print(str(held), highlight=False, markup=False, soft_wrap=True)
        sys.exit(3)
    if done.breaches:
        print_preview(store, done.preview)
        console.print("applied with --confirm: the next sync cycle stages these deletes; the "
                      "export's deletion limits still hold them until they are exported",
                      highlight=False, soft_wrap=True)
    else:
        console.print(f"preview of the next synchronization: {totals_text(done.preview)}",
                      highlight=False, markup=False, soft_wrap=True)
    return done.result


def print_preview(store: Store, preview: ConfigurationPreview) -> None:
    def say(text: str) -> None:
        console.print(text, highlight=False, markup=False, soft_wrap=True)

    say("Preview (simulated: nothing exported, nothing kept)")
    for run in preview.runs:
        if not run.ok:
            say(f"  {run.connector}: {run.profile} {run.status}: {run.message}")
        elif run.profile == "Full Import":
            c = run.counters
            line = (f"  {run.connector}: full import: {c.get('adds', 0)} added, "
                    f"{c.get('updates', 0)} updated, {c.get('renames', 0)} renamed, "
                    f"{c.get('deletes', 0)} no longer returned")
            if c.get("deletes", 0):
                line += (" (over the connector's deletion limits, `idsync deletion-limit show "
                         f"{run.connector}`, the real full import stages none of these until "
                         "it runs with --accept-deletes)")
            say(line)
    for name, effect in preview.connectors.items():
        if not effect.types:
            continue
        say(f"  {name}" + (f" ({effect.pending_deletes} deletes pending in all afterwards)"
                           if effect.pending_deletes else ""))
        for object_type, te in sorted(effect.types.items(), key=lambda kv: kv[0] or ""):
            counts = ", ".join(f"{n} {c.value}" for c, n in _ordered(te.counts))
            say(f"    {object_type or 'untyped'}: {counts}")
            for change, samples in _ordered(te.samples):
                for s in samples:
                    detail = f" ({s.name})" if s.name and s.name not in s.dn else ""
                    detail += f" -> {s.new_dn}" if s.new_dn else ""
                    if change is Change.UPDATE and s.attributes:
                        detail += ": " + ", ".join(s.attributes)
                    say(f"      {change.value:17} {s.dn}{detail}")
    if preview.metaverse_before != preview.metaverse_after:
        say(f"  metaverse: {preview.metaverse_before} -> {preview.metaverse_after} objects")
    say(f"total: {totals_text(preview)}")


def _ordered(mapping: dict[Change, T]) -> list[tuple[Change, T]]:
    order = list(Change)
    return sorted(mapping.items(), key=lambda kv: order.index(kv[0]))
