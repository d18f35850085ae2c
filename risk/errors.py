"""The exception for bad input, as opposed to a bug.

Risk code raises :class:`InputError` (or a subclass: a config key, a survey file, a table) when what it was
given cannot be used; the message names the file, row, field or key and what was expected. A rule's script
that stops on one prints that one line and the log's path, not a traceback
(:func:`risk.runtime.configure_logging`); any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input: the message names the file, row, field or config key and what was expected."""
