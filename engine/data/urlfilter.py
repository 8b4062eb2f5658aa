"""Step 1: decide, before fetching, which URLs are worth a request.

Like the URL filter at the start of FineWeb's pipeline, it blocks whole domains by
category (lists shipped as data files in ``blocklists/``), then file types that are
not documents, then anything courlan considers not crawlable (login pages, feeds,
malformed URLs). Every verdict says why, so the screen can show it.
"""

from __future__ import annotations

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
        for category, domains in self.blocklists.items():
            if any(host == d or host.endswith("." + d) for d in domains):
                return UrlVerdict(url, False, category, host)
        last = parts.path.rsplit("/", 1)[-1]
        if "." in last:
            ext = last.rsplit(".", 1)[-1].lower()
            if ext in BLOCKED_EXTENSIONS:
                return UrlVerdict(url, False, "file_type", f".{ext} ({BLOCKED_EXTENSIONS[ext]})")
        if self.use_courlan:
            import courlan

            if courlan.check_url(url, strict=False) is None:
                return UrlVerdict(url, False, "courlan", "not a crawlable web page")
            if courlan.is_not_crawlable(url):
                return UrlVerdict(url, False, "courlan", "login, feed or admin page")
        return UrlVerdict(url, True, "ok")
