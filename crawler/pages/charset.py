"""Bytes to text for Chinese pages: UTF-8, GBK/GB18030 and Big5 all end as correct Unicode.

Declarations lie: many saved pages are UTF-8 yet still say ``charset=gb2312`` in their <meta>, and some
servers send GBK under a UTF-8 header. So a declaration is only a candidate, confirmed by a strict decode:
 1. a BOM wins;
 2. non-ASCII bytes that are valid UTF-8 are UTF-8 (GBK text practically never is valid UTF-8);
 3. otherwise the header charset, then <meta>/XML declaration, each tried strictly;
 4. otherwise charset-normalizer's guess, then GB18030 with replacement characters as the last resort.
The legacy Chinese names map to their supersets (gb2312/gbk → gb18030, big5 → big5hkscs), which decode
every byte sequence the subsets do.
"""

from __future__ import annotations

import codecs
import re

_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "gb_2312-80": "gb18030",
    "hz-gb-2312": "gb18030",
    "big5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "x-big5": "big5hkscs",
    "cp950": "big5hkscs",
    "utf8": "utf-8",
    "iso-8859-1": "cp1252",  # what browsers do
    "latin1": "cp1252",
}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""", re.I)
_SNIFF_BYTES = 8192  # declarations live in the first few KB (HTML5 says 1024; old portals put them later)


def normalise_encoding(name: str) -> str | None:
    """A Python codec name for a declared charset, widened to its superset; None when unknown."""
    key = name.strip().lower()
    key = _SUPERSETS.get(key, key)
    try:
        return codecs.lookup(key).name
    except LookupError:
        return None


def header_charset(content_type: str | None) -> str | None:
    m = _HEADER_CHARSET.search(content_type or "")
    return m.group(1) if m else None


def declared_charsets(body: bytes) -> list[str]:
    """Charsets the document itself declares (<meta> and the XML declaration), in order of appearance."""
    head = body[:_SNIFF_BYTES]
    found = [m.group(1).decode("ascii", "ignore") for m in _META_CHARSET.finditer(head)]
    xml = _XML_ENCODING.search(head)
    if xml:
        found.insert(0, xml.group(1).decode("ascii", "ignore"))
    return found


def _strict(body: bytes, encoding: str) -> str | None:
    """Decode strictly, tolerating only a multi-byte character cut off at the very end (truncated transfer)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        return decoder.decode(body, final=False)
    except (UnicodeDecodeError, ValueError):
        return None


def detect_encoding(body: bytes, content_type: str | None = None) -> str:
    """The codec name decode_body would use."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    if not body.isascii() and _strict(body, "utf-8") is not None:
        return "utf-8"
    candidates = [header_charset(content_type), *declared_charsets(body)]
    for declared in candidates:
        codec = normalise_encoding(declared) if declared else None
        if codec and codec not in ("utf-8", "utf-16", "utf-32") and _strict(body, codec) is not None:
            return codec
    if body.isascii():
        return "utf-8"
    from charset_normalizer import from_bytes  # the last resort: most pages never get here

    best = from_bytes(body[:200_000], cp_isolation=["utf_8", "gb18030", "big5hkscs", "cp1252"]).best()
    if best is not None:
        return normalise_encoding(str(best.encoding)) or "gb18030"
    return "gb18030"


def decode_body(body: bytes, content_type_header: str | None = None) -> str:
    """The page as text; see the module docstring for the order of evidence. Never raises."""
    encoding = detect_encoding(body, content_type_header)
    if encoding in ("utf-8", "utf-16", "utf-32") and body.startswith(codecs.BOM_UTF8):
        return body[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    text = _strict(body, encoding)
    return text if text is not None else body.decode(encoding, errors="replace")
