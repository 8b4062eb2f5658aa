"""The page chrome every sample site wraps its articles in: head, cookie banner,
navigation, ads, sidebar, footer. Real pages carry far more markup than text, and
extraction has to find the article inside all of it."""

from __future__ import annotations

import html
from dataclasses import dataclass, field


@dataclass
class Site:
    host: str
    name: str  # shown in the header and <title>; the "source" column's first half
    tagline: str
    accent: str
    nav: list[tuple[str, str]] = field(default_factory=list)  # (label, href)
    lang: str = "en"


def esc(text: str) -> str:
    return html.escape(text, quote=True)


STYLE = """
:root {{ --accent: {accent}; --ink: #222; --muted: #777; }}
body {{ font-family: Georgia, serif; margin: 0; color: var(--ink); background: #fdfcf9; }}
.site-header {{ display: flex; justify-content: space-between; padding: 12px 24px;
  border-bottom: 3px solid var(--accent); }}
.site-header .logo {{ font-size: 1.6em; font-weight: bold; color: var(--accent); }}
.site-header nav a {{ margin-left: 16px; text-decoration: none; color: var(--ink); }}
.layout {{ display: grid; grid-template-columns: 1fr 280px; gap: 32px; max-width: 1100px;
  margin: 24px auto; }}
.sidebar {{ font-size: 0.9em; color: var(--muted); }}
.ad {{ border: 1px dashed #ccc; padding: 12px; margin: 12px 0; background: #fff8e1; }}
#cookie-banner {{ position: fixed; bottom: 0; width: 100%; background: #333; color: #fff;
  padding: 12px; }}
footer {{ border-top: 1px solid #ddd; padding: 24px; font-size: 0.8em; color: var(--muted); }}
"""

SCRIPT = """
window.dataLayer = window.dataLayer || [];
function gtag(){dataLayer.push(arguments);}
gtag('js', new Date()); gtag('config', 'UA-000000-1');
document.addEventListener('DOMContentLoaded', function () {
  var banner = document.getElementById('cookie-banner');
  var ok = banner && banner.querySelector('button');
  if (ok) ok.addEventListener('click', function () { banner.style.display = 'none'; });
});
"""


def page(site: Site, *, title: str, body: str, date: str, author: str, section: str,
         sidebar: list[tuple[str, str]] = (), ads: list[tuple[str, str]] = (),
         footer_links: list[tuple[str, str]] = (), canonical: str | None = None) -> str:
    """A whole HTML document: the article ``body`` (already HTML) inside the site's chrome."""
    nav = "".join(f'<a href="{esc(href)}">{esc(label)}</a>' for label, href in site.nav)
    side = "".join(f'<li><a href="{esc(href)}">{esc(label)}</a></li>' for label, href in sidebar)
    ad_html = "".join(
        f'<div class="ad"><span class="ad-label">Advertisement</span> '
        f'<a href="{esc(href)}" rel="sponsored">{esc(label)}</a></div>' for label, href in ads)
    foot = " · ".join(f'<a href="{esc(href)}">{esc(label)}</a>' for label, href in footer_links)
    canon = f'<link rel="canonical" href="{esc(canonical)}">' if canonical else ""
    return f"""<!DOCTYPE html>
<html lang="{site.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} | {esc(site.name)}</title>
<meta name="description" content="{esc(section)} from {esc(site.name)}: {esc(title)}">
<meta name="author" content="{esc(author)}">
<meta property="og:title" content="{esc(title)}">
<meta property="og:site_name" content="{esc(site.name)}">
<meta property="og:type" content="article">
<meta property="article:published_time" content="{date}">
<meta property="article:section" content="{esc(section)}">
{canon}
<link rel="stylesheet" href="/static/site.css">
<style>{STYLE.format(accent=site.accent)}</style>
<script async src="/static/analytics.js"></script>
<script>{SCRIPT}</script>
</head>
<body>
<div id="cookie-banner" role="dialog">We use cookies to improve your experience and to show
personalised ads. <button type="button">Accept all</button> <a href="#cookie-settings">Manage
preferences</a></div>
<header class="site-header">
<a class="logo" href="/">{esc(site.name)}</a>
<span class="tagline">{esc(site.tagline)}</span>
<nav>{nav}</nav>
</header>
<div class="layout">
<main>
<article>
<h1>{esc(title)}</h1>
{body}
</article>
</main>
<aside class="sidebar">
<div class="widget"><h3>More to read</h3><ul>{side}</ul></div>
{ad_html}
<div class="widget newsletter"><h3>Newsletter</h3><form><input type="email"
placeholder="Your e-mail"><button>Subscribe</button></form></div>
</aside>
</div>
<footer>
<p>© 2024 {esc(site.name)}. All rights reserved. {foot}</p>
<p><a href="#privacy">Privacy policy</a> · <a href="#terms">Terms of use</a></p>
</footer>
<script>
(function(){{var s=document.createElement('script');s.src='https://ads.tracker.example/t.js';
document.body.appendChild(s);}})();
</script>
</body>
</html>
"""
