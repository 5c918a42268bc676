"""Posting to addresses people type in (outbound webhooks) without becoming a proxy into
the private network (SSRF).

A URL is refused unless it is http(s) and every address its host resolves to is public:
not private, loopback, link-local, multicast, reserved, unspecified or shared (CGNAT),
IPv4-mapped IPv6 included. ``post`` resolves and checks again at send time and connects
to the address it checked (the Host header and TLS name stay the host's), so a DNS answer
that changes between the check and the connection (rebinding) cannot slip through.
Redirects are never followed. ``CSRISK_WEBHOOKS_ALLOW_PRIVATE`` lifts the address check
for development and tests.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

# Enough of a receiver's answer to show in the delivery log.
RESPONSE_KEEP = 2000


class BlockedAddress(ValueError):
    """The URL is not one csrisk will post to (scheme, host or address)."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: str


def is_public(ip: str) -> bool:
    """True for a globally routable unicast address."""
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_global and not (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
    )


def _target(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, or BlockedAddress."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BlockedAddress("Only http:// and https:// URLs are allowed.")
    if not parts.hostname:
        raise BlockedAddress("The URL has no host.")
    if parts.username or parts.password:
        raise BlockedAddress("Put no user name or password in the URL; use the secret.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise BlockedAddress("The URL's port is not a number from 0 to 65535.") from exc
    return parts.scheme, parts.hostname, port


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the DNS lookup a test replaces)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def vetted(url: str) -> tuple[str, str, int, list[str]]:
    """(scheme, host, port, addresses) when every address is allowed; BlockedAddress if not,
    OSError when the host does not resolve."""
    scheme, host, port = _target(url)
    addresses = resolve(host, port)
    if not addresses:
        raise OSError(f"{host} resolves to no address.")
    if not settings.CSRISK_WEBHOOKS_ALLOW_PRIVATE:
        blocked = [a for a in addresses if not is_public(a)]
        if blocked:
            raise BlockedAddress(
                f"{host} resolves to {blocked[0]}, a private, loopback, link-local, multicast "
                "or reserved address; csrisk does not post there."
            )
    return scheme, host, port, addresses


def check_url(url: str) -> None:
    """Refuse a URL that may not be posted to now (BlockedAddress; OSError: no DNS answer)."""
    vetted(url)


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the vetted address, while Host stays the URL's host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """TLS to the vetted address, with the certificate checked against the URL's host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> Answer:
    """POST ``body`` to ``url`` (checked again now); the answer is never followed anywhere.

    BlockedAddress when the host now resolves to a refused address; OSError or
    http.client.HTTPException when the receiver cannot be reached or answers garbage.
    """
    scheme, host, port, addresses = vetted(url)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    kind = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    last: OSError | None = None
    for address in addresses:
        connection = kind(host, port, address, timeout)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read(RESPONSE_KEEP).decode("utf-8", "replace")
            return Answer(response.status, text)
        except ConnectionRefusedError as exc:
            last = exc  # the next address may answer (a timeout is not retried: keep it short)
        finally:
            connection.close()
    raise last or OSError(f"could not reach {host}")
