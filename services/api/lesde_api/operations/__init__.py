"""What the gateway does per request (record, look up, enqueue), behind the routes: no HTTP types here."""
