"""lesde_runtime: what the gateway and the workers share at run time, never the client.

Object stores (S3, a local folder) with conditional writes, job records with one write path,
leases, the reaper, tombstones, the chunk writer, the Celery app, metrics, logs and settings.
"""
