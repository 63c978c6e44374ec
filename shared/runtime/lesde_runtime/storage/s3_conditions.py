"""Conditional PUTs on S3 (``If-Match`` / ``If-None-Match``) and the probe that says whether a server honours them.

minio-py 7.2 has no parameter for these headers: ``put_object(metadata=...)`` prefixes any
header it does not know with ``X-Amz-Meta-``, which turns a condition into user metadata the
server stores and ignores. So the PUT is sent through the client's own request helper,
``Minio._execute`` (what ``Minio._put_object`` calls: same signing, connection pool and error
parsing), with the headers as given. A failed condition is answered ``412 PreconditionFailed``
(S3, MinIO, SeaweedFS); AWS answers ``409 ConditionalRequestConflict`` to a concurrent
conditional write and ``404 NoSuchKey`` to ``If-Match`` on a missing key. All three mean:
nothing was written, read again.

A server that does not know the headers ignores them and writes. The probe
(:func:`probe_conditions`) finds that out with an object of its own: writes that must be
refused (a wrong ``If-Match``, ``If-None-Match: *`` on an existing object, ``If-Match`` on a
missing one: MinIO wrote that last one, minio/minio#21526, until minio/minio#21550 of
2025-08-29) and one that must land (the current ETag). Any refusal missing, or the headers
rejected outright (``501 NotImplemented``, as some S3 services answer), and the store falls
back to a lock (:mod:`lesde_runtime.storage.key_locks`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from lesde_contract.object_store import PreconditionFailed
from minio import Minio
from minio.error import InvalidResponseError, S3Error

PROBE_PREFIX = "lesde-probes/conditional-put-"
_REFUSED_CODES = {"PreconditionFailed", "ConditionalRequestConflict"}
# Answers of a server that rejects the headers themselves (it does not implement them).
_UNSUPPORTED_CODES = {"NotImplemented", "InvalidArgument", "InvalidRequest"}
_WRONG_ETAG = "0" * 32


class ConditionsNotSent(RuntimeError):
    """This minio client has no request helper to send the headers with (a future minio-py)."""


def conditional_put(client: Minio, bucket: str, key: str, data: bytes, *, expect: str | None, content_type: str) -> str:
    """PUT ``data`` under ``key`` if the object has ETag ``expect`` (``None``: if there is none); return the new ETag.

    Raises :class:`~lesde_contract.object_store.PreconditionFailed` when the server refuses on the
    condition; any other error as minio raised it (the store translates those)."""
    execute = getattr(client, "_execute", None)
    if execute is None:
        raise ConditionsNotSent("this minio client has no _execute; conditional PUTs cannot be sent")
    condition = {"If-None-Match": "*"} if expect is None else {"If-Match": f'"{expect}"'}
    try:
        response = execute("PUT", bucket, key, body=data, headers={"Content-Type": content_type, **condition}, no_body_trace=True)
    except (S3Error, InvalidResponseError) as error:
        if refused_on_condition(error, expecting_object=expect is not None):
            raise PreconditionFailed(key, expect) from None
        raise
    return etag_of(response.headers.get("etag", ""))


def refused_on_condition(error: Exception, *, expecting_object: bool) -> bool:
    """Whether the server's error answer says the condition did not hold (nothing was written)."""
    if isinstance(error, S3Error):
        status = error.response.status if error.response is not None else 0
        return error.code in _REFUSED_CODES or status == 412 or (expecting_object and error.code == "NoSuchKey")
    if isinstance(error, InvalidResponseError):  # a 412 without an XML body
        return getattr(error, "_code", 0) == 412
    return False


def rejects_the_headers(error: Exception) -> bool:
    """Whether the server's error answer says it does not implement conditional PUTs."""
    if isinstance(error, S3Error):
        status = error.response.status if error.response is not None else 0
        return error.code in _UNSUPPORTED_CODES or status == 501
    return isinstance(error, InvalidResponseError) and getattr(error, "_code", 0) == 501


def etag_of(header: str) -> str:
    """An ETag as a version: without the quotes HTTP puts around it (stat_object drops them too)."""
    return header.strip().removeprefix("W/").strip('"')


@dataclass
class ConditionSupport:
    """What the probe saw: ``honoured`` only if every check came out as S3 specifies."""

    honoured: bool = True
    findings: list[str] = field(default_factory=list)

    def check(self, what: str, ok: bool, seen: str) -> None:
        self.findings.append(f"{what}: {seen}")
        self.honoured = self.honoured and ok


def probe_conditions(
    put_if: Callable[[str, bytes, str | None], str], etag: Callable[[str], str], delete: Callable[[str], None]
) -> ConditionSupport:
    """Write a probe object of our own with conditions that must be refused and one that must
    land; return whether the server honoured each. The probe object is removed again.

    ``put_if(key, data, expect)`` sends one conditional PUT (raising PreconditionFailed on a
    refusal), ``etag(key)`` reads an object's current ETag, ``delete(key)`` removes it. Store
    outages propagate: nothing is concluded from a probe that did not finish."""
    key = PROBE_PREFIX + secrets.token_hex(8)
    support = ConditionSupport()

    def must_refuse(what: str, data: bytes, expect: str | None) -> None:
        try:
            put_if(key, data, expect)
        except PreconditionFailed:
            support.check(what, True, "refused")
            return
        support.check(what, False, "accepted: the condition was ignored")

    try:
        put_if(key, b"probe 1", None)
        support.check("If-None-Match: * on a missing object", True, "written")
        must_refuse("If-None-Match: * on an existing object", b"probe 2", None)
        must_refuse("If-Match with a wrong ETag", b"probe 3", _WRONG_ETAG)
        try:
            put_if(key, b"probe 4", etag(key))
            support.check("If-Match with the current ETag", True, "written")
        except PreconditionFailed:
            support.check("If-Match with the current ETag", False, "refused: the server's ETags do not round-trip")
        delete(key)
        must_refuse("If-Match on a missing object", b"probe 5", _WRONG_ETAG)
    finally:
        delete(key)
    return support
