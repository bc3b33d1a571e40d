"""``python -m idsync.connectors.file compact PATH...``: fold a file directory's export journal
into its content file, so the LDIF content file alone shows the current state (for reading
it by hand, copying it, or editing it). Safe while idsync runs: it takes the directory's lock.
"""

from __future__ import annotations

import argparse
import os

from idsync.filedir.directory import FileDirectory


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m idsync.connectors.file",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)
    compact = commands.add_parser("compact", help="fold the export journal into the content "
                                                  "file")
    compact.add_argument("paths", nargs="+", metavar="PATH", help="content file (the "
                         "connector's 'path' setting)")
    args = parser.parse_args(argv)
    status = 0
    for path in args.paths:
        if not os.path.isfile(path):
            print(f"{path}: no such content file")
            status = 1
            continue
        folded = FileDirectory(path).compact()
        print(f"{path}: {'journal folded in' if folded else 'already current'}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
