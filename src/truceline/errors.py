"""One error tree for truceline.

    TrucelineError            base: anything the user can fix
    ├── InputError            a file or value given to us is not what was expected (exit 2)
    ├── LakeError             the lake is missing, locked or inconsistent (exit 3)
    ├── IntegrityError        a hash, signature or ledger check failed (exit 4)
    └── RemoteError           a remote source is unreachable, refused us or is busy (exit 5)

The CLI maps each class to its exit code in one place (`cli/__init__.py`); the service maps them
to HTTP statuses.
"""

from __future__ import annotations


class TrucelineError(Exception):
    """Base class: a problem the user can understand and fix."""

    exit_code = 1


class InputError(TrucelineError):
    """A file, row, key or value we were given is not what was expected."""

    exit_code = 2


class LakeError(TrucelineError):
    """The lake folder is missing, busy or not in the expected state."""

    exit_code = 3


class IntegrityError(TrucelineError):
    """A recorded hash, signature or ledger link does not match."""

    exit_code = 4


class RemoteError(TrucelineError):
    """A remote source (the FIRMS API, a webhook) is unreachable, refused us or is busy."""

    exit_code = 5
