"""Step 4: keep the readable text of a page, with trafilatura.

Three things to know about trafilatura, handled here:
- its ``deduplicate`` option keeps a process-wide cache, so the fourth extraction of
  the same page returns nothing; the tour deduplicates in its own passes and keeps
  that option off (and clears that cache at the start of a run);
- it puts the article's ``<h1>`` at the top of the text and may use it as the title;
  the title comes from the page's metadata and the heading line is removed;
- with lxml 6 it needs the separate ``lxml_html_clean`` package (a dependency).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.data.document import Document

_SECTION = re.compile(
    r'<meta\s+property="article:section"\s+content="([^"]*)"', re.IGNORECASE)
_CANONICAL = re.compile(r'<link\s+rel="canonical"\s+href="([^"]*)"', re.IGNORECASE)


@dataclass
class Extractor:
    favor_precision: bool = False
    include_tables: bool = True

    def reset(self) -> None:
        # Only the deduplication cache changes what extract returns; trafilatura's own
        # reset_caches() also clears htmldate's, which logs an error on some versions.
        from trafilatura.deduplication import LRU_TEST

        LRU_TEST.clear()

    def __call__(self, url: str, html: str, fetched_at: str = "") -> Document | None:
        """The page's text and metadata, or None when no main text is found."""
        import html as htmllib

        import trafilatura

        result = trafilatura.bare_extraction(
            html, url=url, with_metadata=True, deduplicate=False, include_comments=False,
            include_tables=self.include_tables, favor_precision=self.favor_precision)
        if result is None or not (result.text or "").strip():
            return None
        title = (result.title or "").strip()
        site = (result.sitename or "").strip()
        if site and title.endswith(f" | {site}"):
            title = title[: -len(site) - 3].strip()
        lines = result.text.split("\n")
        if lines and title and lines[0].strip() == title:
            lines = lines[1:]
        text = "\n".join(lines).strip()
        if not text:
            return None
        match = _SECTION.search(html)
        section = htmllib.unescape(match.group(1)) if match else ""
        canonical = _CANONICAL.search(html)
        return Document(url=url, text=text, title=title, site=site, section=section,
                        date=result.date or "", fetched_at=fetched_at,
                        html_bytes=len(html.encode("utf-8", "replace")),
                        metadata={"canonical": htmllib.unescape(canonical.group(1))
                                  if canonical else url})
