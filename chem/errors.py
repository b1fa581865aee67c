"""Errors a chemist can act on."""

from __future__ import annotations


class StructureError(ValueError):
    """A structure could not be read or is outside the accepted bounds.

    ``code`` is stable and machine-readable (``empty``, ``too_large``,
    ``syntax``, ``unknown_element``, ``valence``, ``aromaticity``,
    ``unreadable``, ``unsupported_format``); the message says what was wrong and
    what is accepted.
    """

    def __init__(self, message: str, code: str = "unreadable") -> None:
        super().__init__(message)
        self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0])
