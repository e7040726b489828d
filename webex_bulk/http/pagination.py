"""Query strings and pagination, pure: query pairs, RFC 8288 ``Link`` parsing, next-link repair
and telephony offset paging.

Builds URLs and reads page bodies only; ``client.WebexClient.pages`` sends the requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, unquote

import yarl

#: Paths listed telephony style (``start``/``max`` offsets) when an answer has no next link.
OFFSET_PAGING = ("/telephony/",)
#: Query keys that belong to the paging itself and must never be copied onto a next link.
PAGING_KEYS = frozenset({"start", "after", "before", "cursor", "next", "offset", "startIndex"})


def query_pairs(params: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Query parameters as text pairs: None dropped, booleans as true/false, lists repeated."""
    pairs: list[tuple[str, str]] = []
    for key, value in (params or {}).items():
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if item is None:
                continue
            text = ("true" if item else "false") if isinstance(item, bool) else str(item)
            pairs.append((key, text))
    return pairs


def _split_outside(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside ``<…>`` and double quotes."""
    parts: list[str] = []
    current: list[str] = []
    in_angle = in_quote = False
    for char in text:
        if char == '"' and not in_angle:
            in_quote = not in_quote
        elif char == "<" and not in_quote:
            in_angle = True
        elif char == ">" and not in_quote:
            in_angle = False
        if char == separator and not in_angle and not in_quote:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse_link_header(values: Iterable[str]) -> dict[str, str]:
    """Map each ``rel`` of RFC 8288 ``Link`` header values to its target (first one wins).

    Tolerates ``<url>;rel="next"`` without a space, unquoted rels, several rels in one value and
    several headers.
    """
    links: dict[str, str] = {}
    for value in values:
        for link in _split_outside(value, ","):
            parts = _split_outside(link, ";")
            target = parts[0].strip()
            if not (target.startswith("<") and target.endswith(">")):
                continue
            for param in parts[1:]:
                name, _, raw = param.partition("=")
                if name.strip().lower() != "rel":
                    continue
                for rel in raw.strip().strip('"').lower().split():
                    links.setdefault(rel, target[1:-1].strip())
    return links


def repair_next_link(link: str, current: yarl.URL, filters: list[tuple[str, str]]) -> yarl.URL:
    """Resolve a next link against the current URL, drop ``max=null`` and put back the filters
    of the first request that the link dropped (paging keys excepted). Raises ValueError."""
    if link.lower().startswith(("https,", "http,")):  # a malformed target seen from telephony
        link = link.replace(",", ":", 1)
    target = current.join(yarl.URL(link))
    kept = [
        part
        for part in target.raw_query_string.split("&")
        if part and part.lower() not in ("max=null", "max=none", "max=")
    ]
    present = {unquote(part.partition("=")[0]) for part in kept}
    missing = [(k, v) for k, v in filters if k not in present and k not in PAGING_KEYS]
    kept += [f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in missing]
    bare = str(target.with_query(None).with_fragment(None))
    return yarl.URL(f"{bare}?{'&'.join(kept)}" if kept else bare, encoded=True)


def next_offset_url(current: yarl.URL, page_size: int | None, count: int) -> yarl.URL | None:
    """Telephony style: the next ``start`` while a page of ``page_size`` came back full."""
    if not page_size or count < page_size:
        return None
    start = as_int(current.query.get("start", "0")) or 0
    return current.update_query(start=str(start + count))


def page_items(body: Any, items_key: str) -> list[dict[str, Any]] | None:
    """The items of one page (an absent key is an empty page); None when they are not a list."""
    items = body if isinstance(body, list) else []
    if isinstance(body, dict):
        items = body.get(items_key, [])  # an empty list may be left out of the answer
    return items if isinstance(items, list) else None


def next_page_url(
    links: Iterable[str],
    current: yarl.URL,
    filters: list[tuple[str, str]],
    page_size: int | None,
    count: int,
    origin: yarl.URL,
) -> yarl.URL | None:
    """The next page's URL from the ``Link`` header values, else by offset; None at the end.

    Raises ValueError when the next link is malformed or leaves ``origin`` (the token would be
    sent to another host).
    """
    link = parse_link_header(links).get("next")
    if not link:
        return next_offset_url(current, page_size, count)
    following = repair_next_link(link, current, filters)
    if following.origin() != origin.origin():
        raise ValueError("the next-page link points to another host")
    return following


def as_int(value: Any) -> int | None:
    """A whole number from an int or a string of digits (paging offsets, page sizes, error
    codes); None for anything else, booleans included."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
