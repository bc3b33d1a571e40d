"""Passwords for the users the graph connector creates.

Graph refuses a new user without a ``passwordProfile``; idsync does not sync password hashes
through Graph, so each new user gets a random password the user never learns (they sign in
through the organisation's own means, or an administrator resets it), with
``forceChangePasswordNextSignIn`` set. The password is made when the request is built and
dropped once it is sent: never logged, never stored, never in an error message or a repr.
"""

from __future__ import annotations

import secrets
import string

#: Entra's complexity rules count upper case, lower case, digits and symbols; these symbols
#: are in Entra's allowed set and need no escaping in JSON.
SYMBOLS = "!@#$%^&*-_=+?"
CLASSES = (string.ascii_uppercase, string.ascii_lowercase, string.digits, SYMBOLS)
#: Entra's bounds on a password's length.
MIN_LENGTH = 8
MAX_LENGTH = 256
DEFAULT_LENGTH = 24


def new_password(length: int = DEFAULT_LENGTH) -> str:
    """A random password of ``length`` characters from ``secrets``, with at least one
    character of each class."""
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise ValueError(f"password_length must be between {MIN_LENGTH} and {MAX_LENGTH}")
    alphabet = "".join(CLASSES)
    chars = [secrets.choice(c) for c in CLASSES]
    chars += [secrets.choice(alphabet) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def password_profile(length: int = DEFAULT_LENGTH) -> dict[str, object]:
    """A new user's ``passwordProfile``."""
    return {"password": new_password(length), "forceChangePasswordNextSignIn": True}
