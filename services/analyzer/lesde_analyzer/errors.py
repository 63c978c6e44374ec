"""Domain errors of the analyzer (never HTTP errors; the API layer maps them)."""

from __future__ import annotations

__all__ = ["InvalidArgument"]


class InvalidArgument(ValueError):
    """An argument of a public function is out of its domain.

    The message names the argument and states what is allowed, e.g.
    ``"window must be an odd integer in [3, T]; got 4"``.

    Parameters
    ----------
    argument : str
        Name of the offending argument, kept as ``self.argument``.
    message : str
        What is wrong and the allowed range.
    """

    def __init__(self, argument: str, message: str) -> None:
        self.argument = argument
        super().__init__(f"{argument}: {message}")
