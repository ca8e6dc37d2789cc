"""Links in people's text. Every platform's composer keeps a typed link as Markdown `[label](url)` (a bare
address stays as typed); every rendering shows it as a link again (`render`: Markdown, Slack `<url|label>`,
a Feishu `a` element) when its address is one a reader can follow safely. Anything else that looks like a
link (`[x](javascript:…)`) stays text."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Addresses a rendering turns into a link; `javascript:`, `data:`, `file:` … never (CommonMark renders any
# scheme, so the Markdown file would carry them to whatever wiki shows it).
SAFE_SCHEMES = ("http://", "https://", "mailto:")
# `[label](url)` as the composers write it: a one-line label without brackets, an address without spaces,
# parentheses, angle brackets or `|` (which would end a Slack link early).
_LINK = re.compile(r"\[(?P<label>[^\[\]\n]+)\]\((?P<url>[^\s()<>|]+)\)")
_OPENING = re.compile(r"\[[^\[\]\n]*\]\(")  # what CommonMark may take for the start of a link
# A bare web address: the characters RFC 3986 allows, except brackets, parentheses and quotes (so it stops
# at the first space, non-ASCII character or bracket: Chinese text runs on without a space), without the
# punctuation that usually ends the sentence around it.
_BARE = re.compile(r"https?://[A-Za-z0-9\-._~:/?#@!$&*+,;=%]+")
_TRAILING = ".,;:!?'\")]}"


@dataclass(frozen=True)
class Link:
    label: str
    url: str


def safe(url: str) -> bool:
    """Whether a rendering may make `url` a link."""
    return url.lower().startswith(SAFE_SCHEMES)


def markdown_link(url: str, label: str) -> str:
    """What a composer keeps for a typed link: `[label](url)`, or what the person typed when the label is
    only the address (the bare address, or the mail address of a `mailto:`)."""
    if url.startswith("mailto:"):
        address = url[len("mailto:"):]
        return address if label in ("", address) else f"[{label}]({url})"
    if label in ("", url) or label == re.sub(r"^[a-z][a-z0-9+.-]*://", "", url):
        return label or url
    return f"[{label}]({url})"


def pieces(text: str) -> list[str | Link]:
    """`text` as plain runs and links, in order: each `[label](url)` with a safe address, and each bare
    web address (its own label). An unsafe `[label](url)`, and an image `![label](url)`, stay in the plain
    runs as typed."""
    out: list[str | Link] = []
    at = 0
    for start, end, link in _kept(text):
        out += _bare(text[at:start])
        out.append(link)
        at = end
    out += _bare(text[at:])
    return [p for p in out if p != ""]


def to_defuse(text: str) -> list[int]:
    """Where each `[` opens what a Markdown renderer would take for a link or image (`[label](…` ) that is
    not a kept link: an unsafe address (`javascript:…`, with parentheses or spaces …) or an image."""
    kept = {start for start, _, _ in _kept(text)}
    return [m.start() for m in _OPENING.finditer(text) if m.start() not in kept]


def _kept(text: str) -> list[tuple[int, int, Link]]:
    return [(m.start(), m.end(), Link(m["label"], m["url"])) for m in _LINK.finditer(text)
            if safe(m["url"]) and not text[:m.start()].endswith("!")]


def _bare(text: str) -> list[str | Link]:
    out: list[str | Link] = []
    at = 0
    for m in _BARE.finditer(text):
        url = m.group(0).rstrip(_TRAILING)
        if len(url) <= len("https://"):
            continue
        out += [text[at:m.start()], Link(url, url)]
        at = m.start() + len(url)
    return [*out, text[at:]]
