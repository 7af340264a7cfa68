"""Getting an article's text: a page fetched with httpx, its body taken out by trafilatura.

Kept apart from article.py, which cleans text by rule, because this side deals with the
network and with HTML: httpx is the project's HTTP client (and knows nothing of Chinese
sites' GBK pages, hence `_decode`), and trafilatura, a maintained boilerplate remover that
handles Chinese news pages, finds the article among menus, related links and footers.
trafilatura only extracts here; it never downloads.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import trafilatura


class FetchError(Exception):
    """The article could not be downloaded; the message is in Chinese and English."""


# --- HTML ---------------------------------------------------------------------------------

_PAGE = re.compile(r"<(?:html|body)\b", re.I)
# Elements of trafilatura's XML that hold a paragraph, or only other blocks (<list>, <table>,
# the root). <lb/> is a line break, <cell> a table cell; the rest (<hi>, <ref>) is inline.
_BLOCKS = frozenset({"body", "div", "article", "main", "section", "p", "head", "quote",
                     "code", "list", "item", "table", "row"})


def extract_text(html: str) -> str:
    """The article's text: its headline, then one paragraph per block, with blank lines.

    trafilatura keeps the article and drops menus, breadcrumbs, related links, sidebars and
    footers. `favor_precision`: on a short Chinese page the recall-minded fallbacks count
    characters and take the menu along (and break sentences at <b>/<span>). The headline is
    page metadata to trafilatura, outside the body; it leads here, as draft_post's title.

    Fallback: a fragment (no <html>/<body>, e.g. an article's markup pasted into a file) is
    no page and has no boilerplate; trafilatura given it bare keeps only part of it (a
    <div> after a <p> is lost), so it is wrapped as a page's <article> to be kept whole.
    """
    if not _PAGE.search(html):
        html = f"<html><body><article>{html}</article></body></html>"
    document = trafilatura.bare_extraction(html, favor_precision=True, include_comments=False,
                                           with_metadata=True)
    if document is None or isinstance(document, dict):  # nothing found (dict: as_dict only)
        return ""
    parts: list[str] = []
    _collect(document.body, parts)
    paragraphs = []
    for chunk in re.split(r"\n\s*\n", "".join(parts)):
        lines = [" ".join(line.split()) for line in chunk.split("\n")]
        if paragraph := "\n".join(line for line in lines if line):
            paragraphs.append(paragraph)
    title = " ".join((document.title or "").split())
    if title and paragraphs and title not in paragraphs:
        paragraphs.insert(0, title)
    return "\n\n".join(paragraphs)


def _collect(element: Any, parts: list[str]) -> None:
    """Append the text of an lxml element of trafilatura's output: blank lines around blocks."""
    tag = element.tag
    parts.append("\n\n" if tag in _BLOCKS else "\n" if tag == "lb" else "")
    parts.append(element.text or "")
    for child in element:
        _collect(child, parts)
        parts.append(child.tail or "")
    parts.append("\n\n" if tag in _BLOCKS else " " if tag == "cell" else "")


# --- fetching -----------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_USER_AGENT = "Mozilla/5.0 (compatible; chamber-bot/0.1)"  # headers are ASCII only


def fetch_url(url: str, *, timeout: float = 20.0,
              transport: httpx.BaseTransport | None = None) -> str:
    """The page at `url` as text (blocking; call it in a thread from async code)."""
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True, transport=transport,
                          headers={"User-Agent": _USER_AGENT}) as client:
            response = client.get(url)
            response.raise_for_status()
    except httpx.TimeoutException as error:
        message = f"获取文章超时（{timeout:g} 秒）/ timed out after {timeout:g} s: {url}"
        raise FetchError(message) from error
    except httpx.HTTPStatusError as error:
        status = error.response.status_code
        message = f"网站返回错误 {status} / the site answered HTTP {status}: {url}"
        raise FetchError(message) from error
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        message = f"无法获取文章 / could not fetch the article: {url} ({error})"
        raise FetchError(message) from error
    return _decode(response.content, response.charset_encoding)


def _decode(content: bytes, declared: str | None) -> str:
    """Decode by the header's charset, else the page's <meta>, else UTF-8, else GB18030.

    httpx falls back to UTF-8 alone, which turns the many GBK-encoded Chinese sites into
    mojibake. GB2312 and GBK pages are read as GB18030, their superset: pages labelled
    GB2312 routinely contain characters outside it (names such as 镕, 堃).
    """
    meta = _META_CHARSET.search(content[:4096])
    candidates = [declared, meta[1].decode("ascii") if meta else None, "utf-8", "gb18030"]
    for name in candidates:
        if not name:
            continue
        if name.lower().replace("_", "-") in ("gb2312", "gbk", "x-gbk", "gb-2312", "euc-cn"):
            name = "gb18030"
        try:
            return content.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return content.decode("utf-8", errors="replace")  # U+FFFD is flagged by clean_article
