"""HTTP for service tasks: one bounded request, and Plaint's own `plaint/HttpRequest` operator.

Every request has a time limit for the whole exchange and a size limit for the answer,
and follows no redirect. The operator reaches only hosts an administrator allowed
(PLAINT_HTTP_ALLOWED_HOSTS), and connects to the address it checked, so a name that
resolves to a loopback, private, link-local or otherwise non-public address is refused
unless that address is in PLAINT_HTTP_ALLOWED_NETWORKS: a diagram cannot make the server
reach into its own network (server-side request forgery).
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _

CHUNK = 64 * 1024
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class CallFailed(Exception):
    """A service call that did not give a result; `transient` when a later try may."""

    def __init__(self, message: str, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class AddressRefused(CallFailed):
    """A host whose address Plaint may not reach: no later try will reach it either."""

    def __init__(self, message: str) -> None:
        super().__init__(message, transient=False)


class _Pinned(http.client.HTTPConnection):
    """An HTTP connection to the address that was checked, whatever the name resolves to later."""

    def __init__(self, host: str, port: int | None, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        """Connect to the checked address."""
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedTLS(http.client.HTTPSConnection):
    """An HTTPS connection to the checked address, verifying the certificate of the name."""

    def __init__(self, host: str, port: int | None, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        """Connect to the checked address and start TLS for the host's name."""
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(  # type: ignore[attr-defined]
            sock, server_hostname=self.host)


def fetch(method: str, url: str, body: bytes | None, headers: dict[str, str], timeout: float,
          max_bytes: int, check: Callable[[str, list[str]], str] | None = None,
          ) -> tuple[int, str, bytes]:
    """Make one request; return status, content type and body. Raise CallFailed.

    `check(host, addresses)` picks the address to connect to, or raises CallFailed; without
    it the first address the name resolves to is used (configured proxies).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CallFailed(_("'%(url)s' is not an http or https URL", url=url[:200]),
                         transient=False)
    host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = [str(info[4][0]) for info in socket.getaddrinfo(host, port,
                                                                type=socket.SOCK_STREAM)]
    except OSError as exc:
        raise CallFailed(_("the host %(host)s cannot be found: %(error)s", host=host,
                           error=exc), transient=True) from None
    address = check(host, found) if check else found[0]
    kind = _PinnedTLS if parts.scheme == "https" else _Pinned
    connection = kind(host, port, address, timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    deadline = time.monotonic() + timeout
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        chunks, size = [], 0
        while True:
            if time.monotonic() > deadline:
                raise CallFailed(_("no complete answer from %(host)s within %(seconds)s s",
                                   host=host, seconds=timeout), transient=True)
            chunk = response.read(CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise CallFailed(_("the answer from %(host)s is larger than %(limit)s bytes",
                                   host=host, limit=max_bytes), transient=False)
            chunks.append(chunk)
        return response.status, response.getheader("Content-Type") or "", b"".join(chunks)
    except (OSError, http.client.HTTPException) as exc:
        raise CallFailed(_("%(host)s could not be reached: %(error)s", host=host,
                           error=str(exc) or type(exc).__name__), transient=True) from None
    finally:
        connection.close()


def _not_allowed(addresses: list[str]) -> str | None:
    """The first address that is not public and not in PLAINT_HTTP_ALLOWED_NETWORKS."""
    allowed = [ipaddress.ip_network(n, strict=False) if isinstance(n, str) else n
               for n in current_app.config.get("PLAINT_HTTP_ALLOWED_NETWORKS") or ()]
    for text in addresses:
        address: Address = ipaddress.ip_address(text.split("%")[0])
        if not address.is_global and not any(address in network for network in allowed):
            return text
    return None


def _allowed_address(host: str, addresses: list[str]) -> str:
    """The address to use for an allowed host, refusing non-public ones not allowed."""
    text = _not_allowed(addresses)
    if text is not None:
        raise AddressRefused(_(
            "the host %(host)s has the address %(address)s, which is not public: "
            "Plaint's HTTP operator reaches such an address only when it is in "
            "PLAINT_HTTP_ALLOWED_NETWORKS", host=host, address=text))
    return addresses[0]


def public_address(host: str, addresses: list[str]) -> str:
    """The address to post to for an address an API client gave (a webhook): a public one,
    or one in PLAINT_HTTP_ALLOWED_NETWORKS; raise CallFailed otherwise."""
    text = _not_allowed(addresses)
    if text is not None:
        raise AddressRefused(_(
            "the host %(host)s has the address %(address)s, which is not public: an "
            "address an API client gave is reached only when it is in "
            "PLAINT_HTTP_ALLOWED_NETWORKS", host=host, address=text))
    return addresses[0]


def http_operator(params: dict[str, Any]) -> dict[str, Any]:
    """Plaint's `plaint/HttpRequest`: url, method, headers, body -> body, mimetype, http_status."""
    url = params.get("url")
    method = str(params.get("method") or "GET").upper()
    if not isinstance(url, str) or not url:
        raise CallFailed(_("plaint/HttpRequest needs the parameter 'url'"), transient=False)
    if method not in METHODS:
        raise CallFailed(_("plaint/HttpRequest cannot use the method '%(method)s': use one of "
                           "%(methods)s", method=method[:20], methods=", ".join(METHODS)),
                         transient=False)
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    hosts = [h.lower() for h in current_app.config.get("PLAINT_HTTP_ALLOWED_HOSTS") or ()]
    if host not in hosts and f"{host}:{parts.port}" not in hosts:
        raise CallFailed(_("the host '%(host)s' is not one Plaint's HTTP operator may call: an "
                           "administrator lists allowed hosts in PLAINT_HTTP_ALLOWED_HOSTS",
                           host=host[:200]), transient=False)
    headers = {str(k): str(v) for k, v in (params.get("headers") or {}).items()} \
        if isinstance(params.get("headers"), dict) else {}
    headers.setdefault("User-Agent", "plaint")
    body = params.get("body")
    data: bytes | None = None
    if body is not None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        if not isinstance(body, str):
            headers.setdefault("Content-Type", "application/json")
    status, mimetype, raw = fetch(
        method, url, data, headers, current_app.config["PLAINT_SERVICE_TIMEOUT"],
        current_app.config["PLAINT_HTTP_MAX_RESPONSE_BYTES"], check=_allowed_address)
    if status >= 300:
        # Redirects are not followed: the diagram names the address it means.
        raise CallFailed(_("%(host)s answered HTTP %(status)s", host=host, status=status),
                         transient=status >= 500 or status == 429)
    text = raw.decode("utf-8", "replace")
    result: Any = text
    if "json" in mimetype:
        try:
            result = json.loads(text)
        except ValueError:
            pass
    return {"body": result, "mimetype": mimetype.split(";")[0].strip(), "http_status": status,
            "operator_identifier": "plaint/HttpRequest"}
