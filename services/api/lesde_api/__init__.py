"""lesde_api."""
