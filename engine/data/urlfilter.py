"""Step 1: decide, before fetching, which URLs are worth a request.

Like the URL filter at the start of FineWeb's pipeline, it blocks whole domains by
category (lists shipped as data files in ``blocklists/``), then file types that are
not documents, then anything courlan considers not crawlable (login pages, feeds,
malformed URLs). Every verdict says why, so the screen can show it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

BLOCKLIST_DIR = Path(__file__).with_name("blocklists")

# Extensions of files that are not web documents a model should read.
BLOCKED_EXTENSIONS = {
    "pdf": "document", "doc": "document", "docx": "document", "xls": "document",
    "ppt": "document", "jpg": "image", "jpeg": "image", "png": "image", "gif": "image",
    "svg": "image", "webp": "image", "mp3": "media", "mp4": "media", "avi": "media",
    "mov": "media", "zip": "archive", "gz": "archive", "tar": "archive", "rar": "archive",
    "7z": "archive", "exe": "executable", "msi": "executable", "dmg": "executable",
    "apk": "executable", "bin": "executable", "iso": "executable", "css": "asset",
    "js": "asset", "xml": "feed", "rss": "feed", "json": "asset",
}


# Names that lead to a cloud machine's metadata service (credentials live there).
METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data",
                  "instance-data.ec2.internal", "metadata.azure.internal"}
METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"),
                      ipaddress.ip_address("169.254.170.2"), ipaddress.ip_address("fd00:ec2::254"),
                      ipaddress.ip_address("100.100.100.200")}


def address_problem(host: str, port: int | None = None, *, resolved: bool = False) -> str | None:
    """Why the crawler must not connect to ``host`` (an IP address or a name), or None.

    Private, link-local, metadata, multicast and unspecified addresses are refused: a
    page could otherwise make the crawler read the machine's own network. Loopback is
    allowed when the URL names a port, so a viewer can try the crawler on a site of their
    own (``http://127.0.0.1:8000/page.html``). ``resolved`` says the address came from
    DNS for a name (then the port test was already made on the URL).
    """
    name = host.strip("[]").lower().rstrip(".")
    if name in METADATA_HOSTS:
        return f"{name} is a cloud metadata service"
    if name == "localhost" or name.endswith(".localhost"):
        return None if port is not None or resolved else \
            "localhost without a port (name the port of your local site)"
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return None  # a name: its addresses are checked when it is resolved
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return f"{address} is a cloud metadata address"
    if address.is_loopback:
        return None if port is not None or resolved else \
            f"{address} is this machine; name the port of your local site"
    if address.is_link_local:
        return f"{address} is a link-local address"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return f"{address} is not a web server's address"
    if address.is_private or getattr(address, "is_shared", False) or \
            address in ipaddress.ip_network("100.64.0.0/10"):
        return f"{address} is a private network address"
    return None


@dataclass(frozen=True)
class UrlVerdict:
    url: str
    keep: bool
    category: str  # "ok", "adult", "malware", "spam", "file_type", "scheme", "invalid", ...
    detail: str = ""

    @property
    def reason(self) -> str:
        return "kept" if self.keep else f"{self.category}: {self.detail}" if self.detail \
            else self.category


def load_blocklists(folder: Path = BLOCKLIST_DIR) -> dict[str, set[str]]:
    """category -> domains, from ``<category>.txt`` files (one domain a line, # comments)."""
    lists: dict[str, set[str]] = {}
    for path in sorted(folder.glob("*.txt")):
        domains = set()
        for line in path.read_text("utf-8").splitlines():
            line = line.split("#", 1)[0].strip().lower()
            if line:
                domains.add(line)
        lists[path.stem] = domains
    return lists


@dataclass
class URLFilter:
    blocklists: dict[str, set[str]] = field(default_factory=load_blocklists)
    max_url_length: int = 2048
    use_courlan: bool = True  # courlan refuses localhost names; the sample web uses .example
    allow_private: bool = False  # True: private and link-local addresses may be fetched

    def __call__(self, url: str) -> UrlVerdict:
        try:
            return self._check(url)
        except ValueError as error:  # urlsplit refuses some malformed URLs
            return UrlVerdict(url, False, "invalid", str(error)[:80])

    def _check(self, url: str) -> UrlVerdict:
        if not isinstance(url, str) or not url.strip():
            return UrlVerdict(str(url), False, "invalid", "empty URL")
        if len(url) > self.max_url_length:
            return UrlVerdict(url, False, "invalid", "URL too long")
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https"):
            return UrlVerdict(url, False, "scheme", parts.scheme or "no scheme")
        host = (parts.hostname or "").lower()
        if not host:
            return UrlVerdict(url, False, "invalid", "no host")
        try:
            port = parts.port
        except ValueError:
            return UrlVerdict(url, False, "invalid", "bad port")
        problem = None if self.allow_private else address_problem(host, port)
        if problem is not None:
            return UrlVerdict(url, False, "address", problem)
        local = _is_ip(host) or host == "localhost"
        for category, domains in self.blocklists.items():
            if any(host == d or host.endswith("." + d) for d in domains):
                return UrlVerdict(url, False, category, host)
        last = parts.path.rsplit("/", 1)[-1]
        if "." in last:
            ext = last.rsplit(".", 1)[-1].lower()
            if ext in BLOCKED_EXTENSIONS:
                return UrlVerdict(url, False, "file_type", f".{ext} ({BLOCKED_EXTENSIONS[ext]})")
        if self.use_courlan and not local:  # courlan refuses every IP address and localhost
            import courlan

            if courlan.check_url(url, strict=False) is None:
                return UrlVerdict(url, False, "courlan", "not a crawlable web page")
            if courlan.is_not_crawlable(url):
                return UrlVerdict(url, False, "courlan", "login, feed or admin page")
        return UrlVerdict(url, True, "ok")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
