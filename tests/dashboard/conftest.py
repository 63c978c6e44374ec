"""The gateway in-process (TestClient) on a local-directory store, as in tests/api, for the
dashboard's pages and the event streams; the browser test starts its own stack."""

from tests.fixtures.gateway import client, experiments, store  # noqa: F401 - fixtures
