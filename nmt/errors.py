"""User-facing errors.

Anything a user can fix (a missing file, an unknown attention name, mismatched corpora) raises
:class:`UserError`. The CLI turns it into one line on stderr and exit code 2; library callers get an
ordinary exception with the same one-line message.
"""


class UserError(Exception):
    """A mistake the user can fix. The message says what is wrong and how to fix it, on one line."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))
