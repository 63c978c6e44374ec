"""Error text made fit for an HTTP answer: no broker or store address in it.

Client libraries put the address they failed to reach in their messages ("Error 111
connecting to redis:6379", a ``redis://`` URL); an answer names what failed, not where
it lives. The store's own errors are written without addresses (:mod:`lesde_runtime.storage.retry`);
this is for the text of other libraries' exceptions (kombu, redis-py).
"""

from __future__ import annotations

import re

_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://\S+")
_HOST_PORT = re.compile(r"(?:\[[0-9a-fA-F:.]+\]|\b[A-Za-z0-9][A-Za-z0-9.-]*):\d{1,5}\b")
_IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")


def without_addresses(text: str) -> str:
    """``text`` with URLs, ``host:port`` pairs and IPv4 addresses replaced by ``<address>``."""
    for pattern in (_URL, _HOST_PORT, _IPV4):
        text = pattern.sub("<address>", text)
    return text
