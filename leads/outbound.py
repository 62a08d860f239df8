"""POSTs to URLs that admins typed in (webhooks, Teams): timeouts, no redirects, no private addresses.

The hostname is resolved once per request and every address it resolves to is
checked; the connection then goes to the checked address itself (the Host
header and the TLS server name stay the hostname), so a DNS answer that changes
between the check and the connect (rebinding) cannot steer the request to an
internal service. Private, loopback, link-local and other non-global addresses
are refused unless ``FUNNEL_OUTBOUND_ALLOW_PRIVATE`` is on (it is under DEBUG,
so a receiver on this machine works with ``make run``).
"""

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.utils.translation import gettext

# The first part of a response kept in the delivery log.
EXCERPT_BYTES = 1024

_pools = {}
_pools_lock = threading.Lock()


class RefusedURL(ValueError):
    """The URL may not be requested: its scheme, or an address it resolves to."""


@dataclass(frozen=True)
class Answer:
    status: int | None
    excerpt: str
    latency_ms: int
    error: str = ""

    @property
    def ok(self):
        return self.status is not None and 200 <= self.status < 300


def _refused_reason(address):
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_global and not address.is_multicast:
        return None
    if address.is_loopback:
        return gettext("a loopback address")
    if address.is_link_local:
        return gettext("a link-local address")
    if address.is_private:
        return gettext("a private address")
    return gettext("not a public address")


def check_url(url):
    """Refuse what can be refused without DNS (scheme, host, a literal address); raises RefusedURL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedURL(gettext("Use an http:// or https:// URL with a host name."))
    if parts.username or parts.password:
        raise RefusedURL(gettext("Leave credentials out of the URL."))
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return parts
    reason = _refused_reason(address)
    if reason and not settings.FUNNEL_OUTBOUND_ALLOW_PRIVATE:
        raise RefusedURL(
            gettext("%(host)s is %(reason)s; only public addresses can receive requests.")
            % {"host": parts.hostname, "reason": reason}
        )
    return parts


def resolve(host, port):
    """Return the addresses ``host`` resolves to, all of them allowed; raises RefusedURL."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise RefusedURL(gettext("%(host)s does not resolve (%(error)s).") % {"host": host, "error": exc}) from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))
    if not settings.FUNNEL_OUTBOUND_ALLOW_PRIVATE:
        for address in addresses:
            reason = _refused_reason(address)
            if reason:
                raise RefusedURL(
                    gettext("%(host)s resolves to %(address)s, %(reason)s; only public addresses can receive requests.")
                    % {"host": host, "address": address, "reason": reason}
                )
    return addresses


def _pool(scheme, address, port, hostname):
    key = (scheme, str(address), port, hostname)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            timeout = urllib3.Timeout(
                connect=settings.FUNNEL_OUTBOUND_CONNECT_TIMEOUT, read=settings.FUNNEL_OUTBOUND_READ_TIMEOUT
            )
            options = {
                "timeout": timeout,
                "retries": False,
                "maxsize": settings.FUNNEL_WEBHOOK_CONCURRENCY,
                "block": False,
            }
            if scheme == "https":
                pool = urllib3.HTTPSConnectionPool(
                    str(address),
                    port,
                    server_hostname=hostname,
                    assert_hostname=hostname,
                    cert_reqs="CERT_REQUIRED",
                    **options,
                )
            else:
                pool = urllib3.HTTPConnectionPool(str(address), port, **options)
            _pools[key] = pool
    return pool


def post(url, body, headers):
    """POST ``body`` to ``url`` once (no redirects followed) and return what came back; raises nothing.

    A refused address, a connection error or a timeout is an Answer without status.
    """
    started = time.monotonic()
    try:
        parts = check_url(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = resolve(parts.hostname, port)[0]
        host_header = parts.netloc.rsplit("@", 1)[-1]
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        pool = _pool(parts.scheme, address, port, parts.hostname)
        response = pool.urlopen(
            "POST",
            path,
            body=body,
            headers={**headers, "Host": host_header},
            redirect=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            excerpt = response.read(EXCERPT_BYTES + 1)
            if len(excerpt) > EXCERPT_BYTES:
                # Not reading the rest: drop the connection rather than reuse a half-read one.
                response.close()
                excerpt = excerpt[:EXCERPT_BYTES]
        finally:
            response.release_conn()
        return Answer(response.status, excerpt.decode("utf-8", "replace"), _since(started))
    except RefusedURL as exc:
        return Answer(None, "", _since(started), f"refused: {exc}")
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        return Answer(None, "", _since(started), f"{type(exc).__name__}: {exc}"[:500])


def _since(started):
    return int((time.monotonic() - started) * 1000)
