"""Service functions behind the routes: no HTTP types beyond what routes hand in."""
