"""Webhook targets must not reach into the node's own network.

A target is refused when it is not https (unless loopback targets are
explicitly allowed for tests and demos), or when its host resolves to a
loopback, private, link-local (cloud metadata: 169.254.169.254), multicast,
reserved or otherwise non-global address. The check runs at registration and
again at send time, and the request is pinned to the addresses checked, so
that DNS cannot change its answer in between (rebinding).

>>> check_url("http://10.0.0.5/hook", allow_loopback=False)
Traceback (most recent call last):
...
alerts.urlguard.UnsafeTarget: url: only https targets are accepted
>>> check_url("https://169.254.169.254/latest/meta-data", allow_loopback=False)
Traceback (most recent call last):
...
alerts.urlguard.UnsafeTarget: url: 169.254.169.254 is a link-local address; webhook targets must be public
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit


class UnsafeTarget(ValueError):
    """The webhook URL is malformed or points somewhere it must not."""


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


def _kind(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    for attribute, label in (
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_private", "private"),
        ("is_multicast", "multicast"),
        ("is_reserved", "reserved"),
        ("is_unspecified", "unspecified"),
    ):
        if getattr(address, attribute):
            return label
    if not address.is_global:
        return "non-global"
    return None


def resolve(host: str, port: int) -> tuple[str, ...]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeTarget(f"url: host {host!r} does not resolve ({error})") from None
    # an AF_INET/AF_INET6 sockaddr starts with the address as text
    return tuple(dict.fromkeys(cast(str, info[4][0]) for info in infos))


def check_url(url: str, allow_loopback: bool, resolver=resolve) -> Target:
    """The parsed, resolved target, or :class:`UnsafeTarget` saying why not."""
    if len(url) > 2000:
        raise UnsafeTarget("url: longer than 2000 characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeTarget(f"url: not a valid URL ({error})") from None
    if parts.scheme not in ("https", "http") or (parts.scheme == "http" and not allow_loopback):
        raise UnsafeTarget("url: only https targets are accepted")
    if parts.username or parts.password:
        raise UnsafeTarget("url: credentials in the URL are not accepted; the payload is signed instead")
    host = parts.hostname
    if not host:
        raise UnsafeTarget("url: no host")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        literal = ipaddress.ip_address(host)
        addresses: tuple[str, ...] = (str(literal),)
    except ValueError:
        addresses = resolver(host, port)
    if not addresses:
        raise UnsafeTarget(f"url: host {host!r} has no address")
    loopback_only = True
    for text in addresses:
        address = ipaddress.ip_address(text.split("%")[0])
        kind = _kind(address)
        if kind == "loopback" and allow_loopback:
            continue
        loopback_only = False
        if kind is not None:
            raise UnsafeTarget(f"url: {text} is a {kind} address; webhook targets must be public")
    if parts.scheme != "https" and not (allow_loopback and loopback_only):
        raise UnsafeTarget("url: only https targets are accepted")
    return Target(url=url, scheme=parts.scheme, host=host, port=port, addresses=addresses)
