"""lesde."""
