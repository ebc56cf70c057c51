"""User-facing errors.

A ``GanZooError`` carries one line that says what was wrong and what is allowed.
The command line prints that line and exits with code 2, without a traceback;
library users catch it like any other exception.
"""


class GanZooError(Exception):
    """A mistake in what the user asked for; the message is one complete line."""

    exit_code = 2


class NotApplicableError(GanZooError, ValueError):
    """A combination that makes no sense, e.g. a label trick on a target-free objective.

    The benchmark runner records such pairs as ``skipped`` with this message as reason.
    """


class DataUnavailableError(GanZooError):
    """Dataset files are missing and cannot be downloaded."""
