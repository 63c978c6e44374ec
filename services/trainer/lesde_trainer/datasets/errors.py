"""Domain error raised for an invalid data request, before any training starts."""


class InvalidDataSpec(ValueError):
    """A dataset request names an unknown class, asks for too many samples, points to a
    missing directory or carries an out-of-range option. The message names the field."""
