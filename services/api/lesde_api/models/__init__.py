"""Response models of the gateway: what each route answers, as the OpenAPI schema states it.

Request specs live in :mod:`lesde_contract.specs` (one definition for every service); these models
only describe answers, so a client, the docs and ``tests/api/test_fuzz_schema.py``
(schemathesis' response-schema check) agree on them.
"""
