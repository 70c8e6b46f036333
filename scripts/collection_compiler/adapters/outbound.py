"""Where outbound requests may go. URLs from untrusted content (an RDF, a partner file, a redirect) must be
http(s) and, unless their host is a configured endpoint or listed in `Settings.allowed_hosts`, must not resolve
to a loopback, private, link-local or otherwise non-public address: a partner must not make the compiler read
a service on the runner's own network and publish its answer.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from urllib.parse import urlsplit

from collection_compiler.settings import Settings

_DEFAULT_PORTS = {"http": 80, "https": 443}


class RefusedUrl(ValueError):
    """A URL the compiler does not send a request to; the message says why."""


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL; RefusedUrl for any other."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a port that is not a number in range
    except ValueError:
        raise RefusedUrl("not an http(s) URL") from None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise RefusedUrl("not an http(s) URL")
    return parts.scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[parts.scheme]


@functools.lru_cache(maxsize=16)
def trusted_hosts(settings: Settings) -> frozenset[str]:
    """`host:port` of the configured endpoints, and the allowed hosts (`host` or `host:port`)."""
    hosts = set()
    for endpoint in (settings.zenodo_api, settings.github_api, settings.github_raw, settings.git_base):
        try:
            _, host, port = origin(endpoint)
        except RefusedUrl:
            continue  # a local git base
        hosts.add(f"{host}:{port}")
    hosts.update(h.strip().lower() for h in settings.allowed_hosts.split(",") if h.strip())
    return frozenset(hosts)


def check_untrusted(url: str, settings: Settings) -> None:
    """RefusedUrl unless `url` is http(s) and goes to a trusted host or to public addresses only."""
    _, host, port = origin(url)
    trusted = trusted_hosts(settings)
    if host in trusted or f"{host}:{port}" in trusted:
        return
    for address in _addresses(host, port):
        if not address.is_global or address.is_multicast:
            raise RefusedUrl(f"host {host} resolves to the non-public address {address} "
                             "(list it in COLLECTION_ALLOWED_HOSTS to allow it)")


@functools.lru_cache(maxsize=1024)
def _addresses(host: str, port: int) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as e:
        raise RefusedUrl(f"host {host} does not resolve ({e})") from None
    addresses = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        addresses.append(address)
    return tuple(addresses)
