"""User-facing errors.

Every problem caused by the user's input (files, selections, styles, output folders) is raised
as an :class:`IspyError` whose message is one line naming the problem and what would fix it.
The CLI prints that line and exits with :attr:`IspyError.exit_code`, without a traceback.
"""

from __future__ import annotations


class IspyError(ValueError):
    """A problem with the user's input, reported as one line.

    A ValueError, so that Python users catch it the usual way (``except ValueError``)."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        # Collapse newlines so that the CLI always prints exactly one line.
        super().__init__(" ".join(str(message).split()))


class UsageError(IspyError):
    """An option, argument or format that the command or function does not take."""


class InputError(IspyError):
    """An input file or URL that cannot be read as NanoAOD."""


class SelectionError(IspyError):
    """An event selection that is malformed or matches nothing."""


class StyleError(IspyError):
    """A style file or override that does not validate."""


class OutputError(IspyError):
    """An output location that cannot be written."""


class RenderingError(IspyError):
    """The headless OpenGL stack is missing or broken."""

    exit_code = 3
