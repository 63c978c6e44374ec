"""lesde_contract: what every part of LE-SDE Lab reads and writes the same way.

Specs, records, object keys, the object-store interface, the chunk format and its checks,
the CSV layout and the typed analysis results. Pydantic and numpy only: no settings, no
I/O library, no server (``pip install lesde-contract``).
"""
