"""The README's command blocks, read as a shell would: what `tests/docs/test_readme.py` checks.

A command block is a run of lines indented by four spaces (outside fenced code). A line ending
in a backslash continues on the next; ``#`` starts a comment; ``&&`` and ``;`` separate commands.
A block right after an HTML comment ``<!-- readme-test: run in WORKSPACE -->`` is run for real
by the test, each command in turn, in a fresh workspace of that kind; the comment after a
command may say ``(exit N)`` when the command is meant to end with code N, or ``(runs until
stopped)`` for a server, which must still be serving a few seconds later. The README's demo
folder ``/tmp/idsync-demo`` stands for the test's workspace.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
RUN_MARK = re.compile(r"<!--\s*readme-test:\s*run in (?P<workspace>[\w-]+)\s*-->")
EXIT_NOTE = re.compile(r"\(exit (?P<code>\d+)\)")
SERVES_NOTE = "(runs until stopped)"
DEMO_FOLDER = "/tmp/idsync-demo"
# Shell substitutions the README uses in examples: a command's output or a variable. The
# syntax check replaces each by one plain word (what the shell would pass as one argument).
SUBSTITUTION = re.compile(r"\$\([^)]*\)|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?")
PROGRAMS = {"idsync": "idsync", ".venv/bin/idsync": "idsync",
            "clouddir": "clouddir", ".venv/bin/clouddir": "clouddir"}


@dataclass(slots=True)
class Line:
    """One logical line of a block: what a shell would run at once."""
    number: int                 # the README line it starts on
    text: str                   # as written (continuations joined, comment removed)
    comment: str                # the comment after it, if any
    #: its commands' words (split at ``&&``, ``;``, ``||``), each substitution one plain word
    commands: list[list[str]] = field(default_factory=list)

    @property
    def expected_exit(self) -> int:
        found = EXIT_NOTE.search(self.comment)
        return int(found["code"]) if found else 0

    @property
    def serves(self) -> bool:
        return SERVES_NOTE in self.comment


@dataclass(slots=True)
class Block:
    line: int
    run_in: str | None          # the workspace kind it runs in, or None: checked, not run
    lines: list[Line]


def _logical_lines(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Join backslash continuations: -> (first line number, joined text)."""
    out: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, text in lines:
        if pending is not None:
            number, text = pending[0], pending[1] + " " + text.strip()
        if text.rstrip().endswith("\\"):
            pending = (number, text.rstrip()[:-1])
            continue
        pending = None
        out.append((number, text))
    if pending is not None:
        out.append(pending)
    return out


def _split_comment(text: str) -> tuple[str, str]:
    """-> (command, comment): the first ``#`` outside quotes that starts a word."""
    quote = ""
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1].isspace()):
            return text[:i].rstrip(), text[i + 1:].strip()
    return text.rstrip(), ""


def _line(number: int, text: str) -> Line:
    body, comment = _split_comment(text.strip())
    lexer = shlex.shlex(SUBSTITUTION.sub("X", body), posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    lexer.commenters = ""
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in {"&&", ";", "||"}:
            commands.append([])
        else:
            commands[-1].append(token)
    return Line(number, body, comment, [c for c in commands if c])


def read_blocks(path: Path = README) -> list[Block]:
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    in_fence = False
    mark: str | None = None
    current: list[tuple[int, str]] = []
    current_mark: str | None = None

    def close() -> None:
        nonlocal current
        if current:
            logical = [_line(number, text) for number, text in _logical_lines(current)]
            blocks.append(Block(current[0][0], current_mark, [x for x in logical if x.text]))
        current = []

    for number, line in enumerate(lines, start=1):
        if line.startswith("```"):
            in_fence = not in_fence
            close()
            continue
        if in_fence:
            continue
        if line.startswith("    ") and (current or not lines[number - 2].strip()
                                        or RUN_MARK.search(lines[number - 2])):
            if not current:
                current_mark = mark
                mark = None
            current.append((number, line[4:]))
            continue
        close()
        found = RUN_MARK.search(line)
        if found:
            mark = found["workspace"]
        elif line.strip():
            mark = None
    close()
    return blocks


def program(words: list[str]) -> str | None:
    """``idsync`` or ``clouddir`` when the words run one of them, else None."""
    return PROGRAMS.get(words[0]) if words else None
