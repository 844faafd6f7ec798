#!/usr/bin/env python3
"""Writes a WARC of N pages of one made-up news site, for measuring what keeping the pages as
fetched costs (docs/performance.md, "The page as fetched").

Each page is the site's own template (head with inline CSS and scripts, a navigation bar, a
JSON-LD block, related links, a footer: about 25 KB, the same on every page but for its links,
ids and times) around one article of the BBC set in the shared corpus (headline, paragraphs).
Each response is preceded by its request record, as wget and Heritrix write them.

    python3 crates/bench/scripts/site_warc.py ../shared/corpus/bbc 1200 site.warc
"""

import html
import os
import random
import sys

SECTIONS = ["business", "entertainment", "politics", "sport", "tech"]


def template_parts(rng):
    css = "\n".join(
        f".c{i} {{ margin: {i % 7}px {i % 5}px; padding: {i % 3}em; color: #{rng.randrange(16**6):06x};"
        f" font: {10 + i % 8}px/1.{i % 9} 'Helvetica Neue', Arial, sans-serif; }}"
        for i in range(120)
    )
    nav = "".join(
        f'<li class="nav-item c{i}"><a href="/news/{s}/{i}" data-track="nav-{i}">{s.title()} {i}</a></li>'
        for i, s in enumerate(SECTIONS * 8)
    )
    footer = "".join(
        f'<li><a href="/about/{w}">{w.replace("-", " ").title()}</a></li>'
        for w in ["terms-of-use", "privacy-policy", "cookies", "accessibility-help", "contact-us",
                  "advertise-with-us", "careers", "newsletters", "podcasts", "corrections"] * 3
    )
    script = ("window.__CONFIG__ = {" + ",".join(
        f'"flag{i}": {str(rng.random() < .5).lower()}' for i in range(150)) + "};")
    return css, nav, footer, script


def page(n, title, paragraphs, section, related, parts):
    css, nav, footer, script = parts
    slug = f"{section}-{50000000 + n}"
    body = "".join(f'<p class="story-body__text">{html.escape(p)}</p>' for p in paragraphs)
    rel = "".join(
        f'<li class="related"><a href="/news/{s}-{50000000 + k}"><span>{html.escape(t)}</span></a></li>'
        for k, t, s in related
    )
    when = f"2005-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00Z"
    return f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8">
<title>{html.escape(title)} - Example News</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta property="og:site_name" content="Example News">
<meta property="og:title" content="{html.escape(title)}">
<meta property="og:url" content="https://www.example-news.test/news/{slug}">
<meta property="article:published_time" content="{when}">
<link rel="canonical" href="https://www.example-news.test/news/{slug}">
<style>{css}</style>
<script>{script}</script>
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"NewsArticle",
"headline":"{html.escape(title)}","datePublished":"{when}","articleSection":"{section}",
"publisher":{{"@type":"Organization","name":"Example News"}}}}</script>
</head><body class="page-{section}"><header><a class="logo" href="/">Example News</a>
<nav><ul>{nav}</ul></nav></header>
<main><article><h1 class="story-headline">{html.escape(title)}</h1>
<div class="date"><time datetime="{when}">{when[:10]}</time></div>
{body}
<div class="share"><a href="https://twitter.example/share?u={slug}">Share</a>
<a href="https://facebook.example/share?u={slug}">Share</a></div></article>
<aside><h2>Related stories</h2><ul>{rel}</ul></aside></main>
<footer><ul>{footer}</ul><p>Copyright 2005 Example News. Not responsible for external sites.</p></footer>
<script src="/static/js/app.{n % 17:04x}.js" async></script>
</body></html>
"""


def record(kind, uri, content_type, block, n):
    head = (f"WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Target-URI: {uri}\r\n"
            f"WARC-Date: 2024-05-01T10:{n // 60 % 60:02d}:{n % 60:02d}Z\r\n"
            f"WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-{n:012d}>\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(block)}\r\n\r\n")
    return head.encode() + block + b"\r\n\r\n"


def main():
    corpus, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    rng = random.Random(17)
    stories = []
    for section in SECTIONS:
        folder = os.path.join(corpus, section)
        for name in sorted(os.listdir(folder)):
            with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as f:
                lines = [l.strip() for l in f.read().split("\n")]
            lines = [l for l in lines if l]
            if len(lines) > 2:
                stories.append((lines[0], lines[1:], section))
    parts = template_parts(rng)
    with open(out, "wb") as w:
        for n in range(count):
            title, paragraphs, section = stories[n % len(stories)]
            related = [(k, stories[k][0], stories[k][2])
                       for k in rng.sample(range(len(stories)), 8)]
            doc = page(n, title, paragraphs, section, related, parts).encode()
            uri = f"https://www.example-news.test/news/{section}-{50000000 + n}"
            w.write(record("request", uri, "application/http; msgtype=request",
                           f"GET /news/{section}-{50000000 + n} HTTP/1.1\r\nHost: www.example-news.test\r\n\r\n".encode(), 2 * n))
            http = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                    + f"Content-Length: {len(doc)}\r\n\r\n".encode() + doc)
            w.write(record("response", uri, "application/http; msgtype=response", http, 2 * n + 1))


if __name__ == "__main__":
    main()
