"""Domain error for an invalid engine configuration (raised before any training)."""


class InvalidTrainingSpec(ValueError):
    """An engine option is out of range; the message names the option and the allowed values."""
