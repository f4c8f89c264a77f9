"""Errors a user can act on: they print as one clear message and a non-zero exit code."""

from __future__ import annotations


class LgsError(Exception):
    """A failure the user can fix; the CLI prints the message without a traceback."""

    exit_code = 1


class InputError(LgsError):
    """The input file is not acceptable; nothing was changed."""

    exit_code = 2


class WarehouseError(LgsError):
    """The warehouse cannot be started, reached or used."""

    exit_code = 3
