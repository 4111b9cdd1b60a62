"""Errors the command line reports as `migrate: error: ...` with exit code 2."""


class MigratorError(Exception):
    """An input or usage problem; the message names the file and what is wrong."""

    exit_code = 2


class EditConflict(MigratorError):
    """Two rules want to change overlapping bytes of one file."""


class RewriteRefused(MigratorError):
    """A rewrite would leave the file with a new parse error; it is not applied."""
