"""Fetching descriptors over http(s) without becoming a way into the private network (SSRF).

A URL is fetched only when its scheme is http or https, its host is on
CATALOG_IMPORT_ALLOWED_HOSTS, and every address the host resolves to is public
(unless CATALOG_IMPORT_ALLOW_PRIVATE). The connection then goes to the address
that was checked, not to a second DNS answer (DNS rebinding), with the host name
kept for the Host header, SNI and certificate checks. Redirects are followed by
hand, each one checked the same way; bodies are read up to the size limit and the
whole fetch has one deadline.
"""

import ipaddress
import socket
import time
import urllib.parse
from dataclasses import dataclass

import urllib3
from django.conf import settings

MAX_REDIRECTS = 5
CHUNK = 64 * 1024


class UrlRefused(Exception):
    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule
        self.message = message


@dataclass(frozen=True)
class CheckedUrl:
    url: str
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent
    address: str  # the checked address to connect to


def host_allowed(host: str) -> bool:
    """Exact host names, or `*.example.com` for any host below example.com."""
    host = host.lower().rstrip(".")
    for allowed in settings.CATALOG_IMPORT_ALLOWED_HOSTS:
        allowed = allowed.strip().lower().rstrip(".")
        if not allowed:
            continue
        if allowed.startswith("*.") and host.endswith(allowed[1:]):
            return True
        if host == allowed:
            return True
    return False


def host_refusal(host: str) -> str:
    return f"host {host} is not in CATALOG_IMPORT_ALLOWED_HOSTS (add it there to import from it)"


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> CheckedUrl:
    """Refuse a URL the import must not fetch; otherwise the address to connect to."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UrlRefused("url.invalid", f"{url} is not a valid URL ({error})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UrlRefused("url.scheme", f"{url}: only http and https URLs can be imported")
    host = (parts.hostname or "").lower()
    if not host:
        raise UrlRefused("url.invalid", f"{url} has no host")
    if parts.username or parts.password:
        raise UrlRefused("url.invalid", f"{url}: credentials in a URL are not accepted")
    if not host_allowed(host):
        raise UrlRefused(
            "url.host-not-allowed",
            f"{url}: {host_refusal(host)}",
        )
    port = port or (443 if scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UrlRefused("url.dns", f"{url}: host {host} cannot be resolved ({error})") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise UrlRefused("url.dns", f"{url}: host {host} has no address")
    if not settings.CATALOG_IMPORT_ALLOW_PRIVATE:
        private = [address for address in addresses if not _public(address)]
        if private:
            raise UrlRefused(
                "url.private-address",
                f"{url}: host {host} resolves to {', '.join(private)}, a private, loopback, link-local or "
                f"reserved address (CATALOG_IMPORT_ALLOW_PRIVATE is off)",
            )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return CheckedUrl(url=url, scheme=scheme, host=host, port=port, path=path, address=addresses[0])


def _pool(checked: CheckedUrl, timeout: urllib3.Timeout):
    common = {"port": checked.port, "timeout": timeout, "retries": False, "maxsize": 1}
    if checked.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            checked.address,
            server_hostname=checked.host,
            assert_hostname=checked.host,
            cert_reqs="CERT_REQUIRED",
            **common,
        )
    return urllib3.HTTPConnectionPool(checked.address, **common)


def fetch(url: str) -> bytes:
    """The body of `url`, within the size limit and the timeout, following only allowed redirects."""
    limit = settings.CATALOG_IMPORT_MAX_BYTES
    seconds = settings.CATALOG_IMPORT_TIMEOUT
    deadline = time.monotonic() + seconds
    for _ in range(MAX_REDIRECTS + 1):
        checked = check_url(url)
        remaining = max(deadline - time.monotonic(), 0.001)
        pool = _pool(checked, urllib3.Timeout(connect=remaining, read=remaining))
        host_header = checked.host if checked.port in (80, 443) else f"{checked.host}:{checked.port}"
        try:
            response = pool.urlopen(
                "GET",
                checked.path,
                headers={"Host": host_header, "Accept": "application/yaml, text/yaml, text/plain, */*"},
                redirect=False,
                preload_content=False,
                assert_same_host=False,
            )
        except (urllib3.exceptions.TimeoutError, TimeoutError):
            pool.close()
            raise UrlRefused("url.timeout", f"{url}: no answer within {seconds:g} s (CATALOG_IMPORT_TIMEOUT)") from None
        except urllib3.exceptions.HTTPError as error:
            pool.close()
            if isinstance(getattr(error, "reason", None), urllib3.exceptions.TimeoutError):
                raise UrlRefused(
                    "url.timeout", f"{url}: no answer within {seconds:g} s (CATALOG_IMPORT_TIMEOUT)"
                ) from None
            raise UrlRefused("url.error", f"{url}: {error}") from None
        try:
            if response.status in (301, 302, 303, 307, 308):
                location = response.headers.get("Location")
                if not location:
                    raise UrlRefused("url.status", f"{url}: redirect ({response.status}) without a Location")
                url = urllib.parse.urljoin(url, location)
                continue
            if response.status != 200:
                raise UrlRefused("url.status", f"{url}: the server answered {response.status}")
            return _read_body(response, url=url, limit=limit, deadline=deadline, seconds=seconds)
        finally:
            response.release_conn()
            pool.close()
    raise UrlRefused("url.redirect", f"{url}: more than {MAX_REDIRECTS} redirects")


def _read_body(response, *, url: str, limit: int, deadline: float, seconds: float) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise UrlRefused(
            "source.too-large",
            f"{url} is larger than the import limit of {limit:,} bytes ({int(declared):,} bytes) "
            f"(CATALOG_IMPORT_MAX_BYTES)",
        )
    body = bytearray()
    try:
        for chunk in response.stream(CHUNK):
            body += chunk
            if len(body) > limit:
                raise UrlRefused(
                    "source.too-large",
                    f"{url} is larger than the import limit of {limit:,} bytes (CATALOG_IMPORT_MAX_BYTES)",
                )
            # A server trickling bytes would otherwise reset the read timeout forever.
            if time.monotonic() > deadline:
                raise UrlRefused("url.timeout", f"{url}: not read within {seconds:g} s (CATALOG_IMPORT_TIMEOUT)")
    except (urllib3.exceptions.TimeoutError, urllib3.exceptions.ProtocolError, TimeoutError) as error:
        if isinstance(error, urllib3.exceptions.ProtocolError) and "timed out" not in str(error):
            raise UrlRefused("url.error", f"{url}: {error}") from None
        raise UrlRefused("url.timeout", f"{url}: not read within {seconds:g} s (CATALOG_IMPORT_TIMEOUT)") from None
    return bytes(body)
