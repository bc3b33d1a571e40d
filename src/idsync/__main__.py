"""``python -m idsync`` is the ``idsync`` command."""

from idsync.cli.main import main

main()
