"""Properties of the pure parts: any secret an operator can type survives sealing and the file
and environment inputs exactly; a remembered secret never survives redaction."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from idsync.cli.secret_input import read_secrets
from idsync.secrets import redaction
from idsync.secrets.cipher import SecretBox
from idsync.secrets.keys import KeyRing

# What a password can hold: any character but NUL (which no environment variable can carry)
# and the surrogates (not UTF-8).
SECRETS = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
                  min_size=1, max_size=200)


@settings(max_examples=200, deadline=None)
@given(value=SECRETS)
def test_a_sealed_secret_opens_to_exactly_what_was_sealed(value: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        box = SecretBox(KeyRing(Path(folder)))
        assert box.open(box.seal(value)) == value
        other = SecretBox(KeyRing(Path(folder) / "elsewhere"))
        other.ring.load_or_create()
        assert other.open(box.seal(value)) is None  # another workspace's key opens nothing


@settings(max_examples=200, deadline=None)
@given(value=SECRETS.filter(lambda v: v.strip() == v and "\n" not in v and "\r" not in v))
def test_file_and_environment_inputs_keep_the_value_exactly(value: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "secret.txt"
        path.write_text(value + "\n", encoding="utf-8")  # an editor's trailing newline
        os.environ["IDSYNC_TEST_SECRET"] = value
        try:
            assert read_secrets(secret_file=(f"a={path}",),
                                secret_env=("b=IDSYNC_TEST_SECRET",)) == {"a": value, "b": value}
        finally:
            del os.environ["IDSYNC_TEST_SECRET"]


@settings(max_examples=300, deadline=None)
@given(value=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="*"),
                     min_size=redaction.MIN_LENGTH, max_size=40),
       before=st.text(max_size=40), after=st.text(max_size=40))
def test_a_remembered_secret_never_survives_redaction(value: str, before: str, after: str
                                                      ) -> None:
    redaction.remember(value)  # forgotten after the test (conftest.py)
    assert value not in redaction.redact(before + value + after + value)
