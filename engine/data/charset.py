"""Bytes of a page to text, the way a browser picks the encoding.

In order: a byte-order mark (it wins over anything declared), the charset the HTTP
``Content-Type`` names, the one a ``<meta>`` near the top names, and last a guess from
the bytes themselves: UTF-16 when every other byte is NUL, UTF-8 when it decodes,
windows-1252 for a page that is mostly ASCII with a few other bytes (the common case,
where a guess from so few bytes is unreliable), else charset-normalizer's guess.
Labels are read as the HTML standard reads them: "iso-8859-1", "latin1" and "ascii"
mean windows-1252, which is what such pages really are, and a ``<meta>`` that names
UTF-16 or UTF-32 means UTF-8 (a page that could be read far enough to find its
``<meta>`` is not in UTF-16). A reading in UTF-16 or UTF-32 without a byte-order mark
must show HTML tags, or it is not taken: two ASCII bytes read as one UTF-16 unit make
Chinese-looking text, not an error. A page none of these decodes cleanly is refused,
never kept with replacement characters.
"""

from __future__ import annotations

import codecs
import re

META_WINDOW = 4096  # bytes at the top of a page searched for a <meta> charset

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""",
                           re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"),
         (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
# What the HTML standard maps these labels to.
_ALIASES = {"iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin1": "cp1252",
            "latin-1": "cp1252", "l1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252",
            "windows-1252": "cp1252", "x-user-defined": "cp1252", "utf8": "utf-8",
            "unicode": "utf-16"}


_ASCII = bytes(range(0x80))
_WIDE = ("utf-16", "utf-32")  # codec names start so: utf-16, utf-16-le, utf-32-be, ...


class EncodingError(ValueError):
    """No encoding decodes the page cleanly; the message lists what was tried."""


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _plausible(text: str, name: str) -> bool:
    """False for a UTF-16 or UTF-32 reading (without a byte-order mark) that shows no tag."""
    wide = (codecs.lookup(name).name if name else "").startswith(_WIDE)
    return not wide or "<" in text[:META_WINDOW]


def wide_without_bom(body: bytes) -> str | None:
    """"utf-16-le" or "utf-16-be" when the top of ``body`` is ASCII text in UTF-16 without
    a byte-order mark (every other byte is NUL), else None."""
    top = body[:META_WINDOW]
    half = len(top) // 2
    if half < 8:
        return None
    for name, zeros in (("utf-16-le", top[1::2]), ("utf-16-be", top[0::2])):
        if zeros.count(0) >= half * 0.9:
            return name
    return None


def meta_charset(body: bytes) -> str | None:
    """The charset a ``<meta charset>`` or ``http-equiv`` near the top declares, if any."""
    match = _META_CHARSET.search(body[:META_WINDOW])
    return match.group(1).decode("ascii", "replace") if match else None


def decode_html(body: bytes, http_charset: str | None = None) -> tuple[str, str]:
    """(text, encoding used). Raises :class:`EncodingError` when nothing decodes it."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            try:
                return body.decode(name), name
            except UnicodeDecodeError as error:
                raise EncodingError(f"starts with a {name} byte-order mark but is not "
                                    f"{name}: {error.reason} at byte {error.start}") from None
    tried: list[str] = []
    done: set[str] = set()
    for source, label in (("HTTP", http_charset), ("<meta>", meta_charset(body))):
        name = _codec(label)
        if label and name is None:
            tried.append(f"{source} names an unknown charset {label!r}")
            continue
        if name is not None and name.startswith(_WIDE) and source == "<meta>":
            name = "utf-8"
        if name is None or name in done:
            continue
        done.add(name)
        try:
            text = body.decode(name)
        except UnicodeDecodeError as error:
            tried.append(f"{source} says {label} but byte {error.start} is not {label}")
            continue
        if not _plausible(text, name):
            tried.append(f"{source} says {label} but read so it has no HTML tags")
            continue
        return text, name
    wide = wide_without_bom(body)
    if wide is not None:
        try:
            return body.decode(wide), wide
        except UnicodeDecodeError as error:
            tried.append(f"looks like {wide} but byte {error.start} is not")
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    high = len(body.translate(None, _ASCII))
    if high <= len(body) // 10:  # mostly ASCII with a few accents: the web's usual legacy
        try:
            return body.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(body[:200_000]).best()
    if best is not None:
        try:
            text = body.decode(best.encoding)
        except (UnicodeDecodeError, LookupError) as error:
            tried.append(f"looks like {best.encoding} but is not ({error})")
        else:
            if _plausible(text, best.encoding):
                return text, best.encoding
            tried.append(f"looks like {best.encoding} but has no HTML tags read so")
    raise EncodingError("no encoding decodes it cleanly"
                        + (f" ({'; '.join(tried)})" if tried else ""))
