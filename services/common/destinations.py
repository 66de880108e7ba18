"""Where the mesh may send a request whose URL a caller chose: webhooks and job callbacks
(``MESHSERVE_INFERENCE_JOBS_WEBHOOK_ALLOWED_HOSTS``), and the registry's URL imports (the default).

Such a URL is fetched by the mesh, from inside its network: without a limit, a caller could make a
service reach the cloud metadata address or an internal admin port. The operator lists what is
allowed, comma-separated:

- ``hooks.example.com``: that host exactly;
- ``*.example.com``: any host under that domain;
- ``10.0.0.0/8``, ``127.0.0.1``: addresses and networks. A host *name* passes through them only when
  every address it resolves to, at delivery time, lies inside (a name re-pointed at another network
  after registration is refused then).

Empty (the default) allows every destination but the instance-metadata addresses
(:data:`METADATA_NETWORKS`: link-local 169.254.0.0/16 and fe80::/10, and AWS's fd00:ec2::254),
where clouds hand out a machine's credentials; a name is resolved at each delivery and refused
when it points there. Listing such an address or network allows it. Deployments that know their
receivers list them. Redirects are never followed, so an allowed host cannot send a delivery
elsewhere.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Where clouds serve instance metadata and credentials: refused unless listed explicitly.
METADATA_NETWORKS: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("fd00:ec2::254/128"),
)


@dataclass(frozen=True)
class Destinations:
    """A parsed allowlist of delivery hosts."""

    names: frozenset[str] = frozenset()
    #: ``.example.com`` for ``*.example.com``.
    suffixes: tuple[str, ...] = ()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, spec: str) -> Destinations:
        """The allowlist of a setting's text; raises ValueError on an entry that is none of the forms."""
        names: set[str] = set()
        suffixes: list[str] = []
        networks: list[IPNetwork] = []
        for raw in spec.split(","):
            entry = raw.strip().lower().rstrip(".")
            if not entry:
                continue
            if entry.startswith("*."):
                suffixes.append(entry[1:])
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                if "/" in entry or "*" in entry or not entry.replace("-", "").replace(".", "").isalnum():
                    raise ValueError(f"{raw.strip()!r} is not a host, *.domain, address or network") from None
                names.add(entry)
        return cls(frozenset(names), tuple(suffixes), tuple(networks))

    @property
    def everywhere(self) -> bool:
        """Whether the list is empty: every destination but the metadata addresses is allowed."""
        return not (self.names or self.suffixes or self.networks)

    def describe(self) -> list[str]:
        """The entries, for error details."""
        return [*sorted(self.names), *(f"*{s}" for s in self.suffixes), *(str(n) for n in self.networks)]

    def allows_name(self, host: str) -> bool | None:
        """Whether ``host`` is allowed by itself: True, False, or None when that depends on the
        addresses a name resolves to (it matched no name, and networks are listed)."""
        host = host.lower().rstrip(".").strip("[]")
        if host in self.names or any(host.endswith(s) for s in self.suffixes):
            return True
        address = _address(host)
        if address is not None:
            return self._allows(address)
        return None if self.networks or self.everywhere else False

    def allows_addresses(self, addresses: Iterable[str]) -> bool:
        """Whether every one of a name's resolved addresses is allowed."""
        parsed = [_address(a) for a in addresses]
        return bool(parsed) and all(a is not None and self._allows(a) for a in parsed)

    async def allows(self, host: str) -> bool:
        """Whether a delivery to ``host`` may go out now (resolving the name when that decides)."""
        verdict = self.allows_name(host)
        if verdict is not None:
            return verdict
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except OSError:  # no address: nothing is reached (the delivery fails on its own), or refused
            return self.everywhere
        return self.allows_addresses(str(info[4][0]) for info in infos)

    def _allows(self, address: IPAddress) -> bool:
        if self.everywhere:
            return not any(address in network for network in METADATA_NETWORKS)
        return any(address in network for network in self.networks)


def _address(text: str) -> IPAddress | None:
    """The address a host text is, if it is one (an IPv4-mapped IPv6 address as its IPv4 one)."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped if mapped is not None else address
