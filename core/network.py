"""Who is calling: the client's address, taken from proxy headers only when a trusted proxy sent them.

The sign-in lock counts failures per (username, address). An address a client can write itself
(an `X-Forwarded-For` header sent straight to the app) would let it try passwords forever under
new addresses, so the header is read only when the connection comes from a proxy listed in
TRUSTED_PROXIES, from the right (the hop that proxy saw), skipping further trusted proxies, and
only a well-formed IP address is taken; anything else falls back to the connection's own address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from fastapi import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Sequence[str]) -> list[Network]:
    """TRUSTED_PROXIES entries (addresses or CIDR blocks); a bad entry is a ValueError at start-up."""
    return [ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip()]


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: list[Network]
) -> bool:
    return any(address in network for network in proxies)


def client_address(request: Request, proxies: list[Network]) -> str:
    """The address of the client behind our trusted proxies, as text; "unknown" when there is none."""
    peer = _address(request.client.host) if request.client else None
    if peer is None:
        return "unknown"
    if not _trusted(peer, proxies):
        return str(peer)
    hops = [h for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # a malformed hop: nothing to its left can be trusted either
        if not _trusted(address, proxies):
            return str(address)
    return str(peer)
