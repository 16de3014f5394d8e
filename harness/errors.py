"""Which errors are the user's to fix, and how the command line shows them.

A *user error* is bad input or state that the message itself explains: a ValueError or
FileNotFoundError raised by the library (they name the file, key or value), an OSError about
a named path (permission, not a directory, disk full), or a `UserError` such as a held lock.
Everything else is a defect of the harness or a library and gets a full traceback.
Light on purpose: the CLI imports it before any verb (no torch).
"""

from __future__ import annotations

import errno


class UserError(Exception):
    """Input or state the user can fix (e.g. a run directory in use); shown as one line."""


# Conditions of the machine the user can fix even when the OS does not name the file.
_FIXABLE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


def is_user_error(err: BaseException) -> bool:
    if isinstance(err, UserError | ValueError | FileNotFoundError):
        return True
    return isinstance(err, OSError) and (err.filename is not None or err.errno in _FIXABLE_ERRNOS)


def one_line(err: BaseException) -> str:
    """The error's message on one line (multi-line library messages joined by spaces)."""
    if isinstance(err, OSError) and err.filename is not None:
        text = f"{err.strerror or err}: '{err.filename}'"
        if err.filename2 is not None:
            text += f" -> '{err.filename2}'"
    else:
        text = str(err) or type(err).__name__
    return flatten(text)


def flatten(text: str) -> str:
    """`text` with its lines joined by spaces."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())
