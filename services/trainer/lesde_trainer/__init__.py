"""lesde_trainer."""
