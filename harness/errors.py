"""Which errors are the user's to fix, and how the command line shows them.

A *user error* is bad input or state that the message itself explains: a ValueError or
FileNotFoundError raised by the library (they name the file, key or value), an OSError about
a named path (permission, not a directory, disk full), or a `UserError` such as a held lock.
Everything else is a defect of the harness or a library and gets a full traceback.
Light on purpose: the CLI imports it before any verb (no torch).

Exit statuses beyond click's 1 (an error) and 2 (usage), from BSD's sysexits.h, so that a
scheduler's record of a job (`sacct`'s ExitCode) says what happened without its log:
75 (EX_TEMPFAIL, "a temporary failure; the user is invited to retry"): the job stopped on
request (SIGTERM or SIGUSR1) after keeping its work, and rerunning it resumes; 69
(EX_UNAVAILABLE, "a service is unavailable"): a stage that needs a GPU found no usable CUDA
device on its host. Any non-zero status makes Snakemake count the attempt as failed and
resubmit the job while it has `retries` left; these two only make the reason visible.
"""

from __future__ import annotations

import errno

EXIT_INTERRUPTED = 75
EXIT_NO_CUDA = 69


class UserError(Exception):
    """Input or state the user can fix (e.g. a run directory in use); shown as one line."""

    exit_code = 1


class CudaUnavailableError(UserError):
    """A GPU was asked for (`--device cuda`) and this host has no usable CUDA device."""

    exit_code = EXIT_NO_CUDA


class Interrupted(Exception):  # noqa: N818 - not an error: a requested stop
    """The job stopped early on request (SIGTERM/SIGUSR1) after keeping its work; rerunning
    the same command resumes it. The message says where it stopped."""

    exit_code = EXIT_INTERRUPTED


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
