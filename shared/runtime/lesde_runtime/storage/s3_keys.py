"""The names of the objects in one S3 "folder", read from ListObjectsV2 pages directly.

minio's ``list_objects`` turns every listed key into a full ``Object`` (each field looked
up in the XML, the date parsed): about 0.1 ms of CPU a key, which made a 1,000-key listing
of the job index cost more than the request itself. The index needs names only, so this
asks for the same pages through the client (same signing, same connection pool, same
errors) and takes the ``<Key>`` of each entry; ``CommonPrefixes`` (sub-folders) are
``<Prefix>`` elements and are left out by construction, folder markers (keys ending in
``/``) as minio's ``is_dir`` leaves them out.
"""

from __future__ import annotations

import html
import re

from minio import Minio

_KEY = re.compile(rb"<Key>([^<]*)</Key>")
_TRUNCATED = re.compile(rb"<IsTruncated>\s*true\s*</IsTruncated>")
_NEXT = re.compile(rb"<NextContinuationToken>([^<]*)</NextContinuationToken>")


def folder_keys(client: Minio, bucket: str, folder: str) -> list[str]:
    """Keys directly in ``folder`` (delimiter ``/``), in the order the server gave them."""
    return first_folder_keys(client, bucket, folder, None)[0]


def first_folder_keys(client: Minio, bucket: str, folder: str, n: int | None) -> tuple[list[str], bool]:
    """Keys directly in ``folder`` until at least ``n`` are read (None: all), and whether all were."""
    execute = getattr(client, "_execute", None)
    if execute is None:  # a minio without the request helper: the slower public way
        return [obj.object_name for obj in client.list_objects(bucket, prefix=folder) if not obj.is_dir], True
    found: list[str] = []
    token = None
    while True:
        # The parameters minio's list_objects sends, less url encoding (keys come XML-escaped only).
        query = {"list-type": "2", "delimiter": "/", "max-keys": "1000", "prefix": folder}
        if token:
            query["continuation-token"] = token
        body = execute("GET", bucket, query_params=query).data
        # A key ending in "/" is a folder marker (SeaweedFS lists an emptied folder so), not an object.
        found += [key for key in map(_text, _KEY.findall(body)) if not key.endswith("/")]
        following = _NEXT.search(body)
        if not _TRUNCATED.search(body) or following is None:
            return found, True
        if n is not None and len(found) >= n:
            return found, False
        token = _text(following.group(1))


def _text(escaped: bytes) -> str:
    return html.unescape(escaped.decode())
