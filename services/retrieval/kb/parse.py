"""A help-center file → its passages: Markdown, HTML, plain text and FAQ CSV (`question,answer`).

A passage is what one answer quotes: a heading's paragraph, or — when a paragraph holds several
facts — a run of whole sentences of at most `PASSAGE_CHARS` characters, so "do you ship to
Canada?" can land on the international-shipping sentences rather than the whole shipping section.
Every passage keeps its heading path as its title and a stable id (the document, the heading, the
position under it), so re-importing an unchanged file gives the same ids.

Parsing is pure (text in, passages out) and raises `ParseError` with a message a shop can act on.
"""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from kefu.data import heading_id
from kefu.vocab import detect_lang, is_zh
from kefu.vocab.lang import sentences as split_sentences

# A run of sentences this long is one or two facts, what a reply quotes (Chinese says as much in
# about a third of the characters).
PASSAGE_CHARS = {"en": 300, "zh": 110}
SHORT_BLOCK = 80  # a list item or table row this short joins the paragraph before it
MAX_FILE_BYTES = 5 * 1024 * 1024
FORMATS = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html", ".txt": "text",
           ".csv": "faq"}

_MD_HEAD = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_MD_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_MD_INLINE = re.compile(r"\*\*|__|`|!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_TEMPLATE = re.compile(r"\{\{[^}]*\}\}")  # CMS placeholders ({{store url=...}})
_SLUG = re.compile(r"[^\w]+")


class ParseError(ValueError):
    """The file cannot be read as a help document (the message says why)."""


@dataclass
class Passage:
    key: str  # stable within the document: heading slug + position
    title: str  # heading path, "Shipping" or "Customer Service › Returns and Replacements"
    text: str
    position: int = 0


@dataclass
class Document:
    source: str  # what the shop calls the file (its path as imported)
    title: str
    lang: str
    format: str
    passages: list[Passage] = field(default_factory=list)


@dataclass
class _Block:
    """A paragraph under a heading path (before sentence packing)."""

    path: tuple[str, ...]
    text: str
    joins: bool = False  # a table row: joins the rows before it into one passage
    key: str | None = None  # the heading's own id ("## 付款方式 {#payment}"), else its slug


def clean(text: str) -> str:
    return " ".join(_TEMPLATE.sub("", html.unescape(text)).split())


def sentences(text: str) -> list[str]:
    """Whole sentences, English and Chinese (kefu.vocab.lang: the one splitter the replies use too)."""
    return split_sentences(text)


def pack(text: str, limit: int = PASSAGE_CHARS["en"]) -> list[str]:
    """Whole sentences in runs of at most `limit` characters (a longer sentence stands alone)."""
    out: list[str] = []
    cur = ""
    for s in sentences(text):
        joined = (cur + ("" if cur.endswith(("。", "！", "？")) else " ") + s) if cur else s
        if cur and len(joined) > limit:
            out.append(cur)
            cur = s
        else:
            cur = joined
    if cur:
        out.append(cur)
    return out


def slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")[:48] or "section"


# ---------------------------------------------------------------- formats → blocks

def _markdown_blocks(text: str) -> tuple[str, list[_Block]]:
    """Headings set the path; blank lines end a paragraph; list items are paragraphs of their own."""
    title = ""
    path: list[tuple[int, str]] = []
    blocks: list[_Block] = []
    para: list[str] = []
    anchor: str | None = None

    def flush() -> None:
        if para:
            body = clean(_MD_LINK.sub(r"\1", _MD_INLINE.sub("", " ".join(para))))
            if body:
                blocks.append(_Block(tuple(h for _, h in path), body, key=anchor))
            para.clear()

    for line in text.splitlines():
        m = _MD_HEAD.match(line)
        if m:
            flush()
            level, head = len(m.group(1)), clean(_MD_INLINE.sub("", m.group(2)))
            head, key = heading_id(head)  # "## 付款方式 {#payment}": passage ids stay put
            if level == 1 and not title:
                title = head
                continue
            path = [(lv, h) for lv, h in path if lv < level] + [(level, head)]
            anchor = key
        elif not line.strip():
            flush()
        elif _MD_LIST.match(line):
            flush()
            para.append(_MD_LIST.sub("", line))
            flush()
        else:
            para.append(line.strip())
    flush()
    return title, blocks


class _HTMLBlocks(HTMLParser):
    """Headings h1–h6 set the path; p, li, table rows, captions and bare text are paragraphs;
    script, style and navigation are left out."""

    SKIP = {"script", "style", "nav", "noscript", "head", "template"}
    BLOCK = {"p", "li", "tr", "caption", "dt", "dd", "blockquote", "div", "section", "article", "br", "td", "th",
             "ul", "ol", "table", "small"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.path: list[tuple[int, str]] = []
        self.blocks: list[_Block] = []
        self.buf: list[str] = []
        self.heading: int | None = None
        self.skip = 0
        self.in_title = False
        self.cells: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skip += 1
        elif tag == "title":
            self.in_title = True
        elif re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self.heading = int(tag[1])
        elif tag == "tr":
            self._flush()
            self.cells = []
        elif tag in ("td", "th") and self.cells is not None:
            self._cell()
        elif tag in self.BLOCK:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "title":
            self.in_title = False
        elif re.fullmatch(r"h[1-6]", tag) and self.heading is not None:
            head = clean(" ".join(self.buf))
            self.buf.clear()
            level, self.heading = self.heading, None
            if head and level == 1 and not self.title:
                self.title = head
            elif head:
                self.path = [(lv, h) for lv, h in self.path if lv < level] + [(level, head)]
        elif tag == "tr" and self.cells is not None:
            self._cell()
            row, self.cells = [c for c in self.cells if c], None
            if row:
                self.blocks.append(_Block(self._path(), " — ".join(row), joins=True))
        elif tag in ("td", "th") and self.cells is not None:
            self._cell()
        elif tag in self.BLOCK:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.in_title:
            self.title = self.title or clean(data)
            return
        self.buf.append(data)

    def _path(self) -> tuple[str, ...]:
        return tuple(h for _, h in self.path)

    def _cell(self) -> None:
        assert self.cells is not None
        self.cells.append(clean(" ".join(self.buf)))
        self.buf.clear()

    def _flush(self) -> None:
        if self.heading is not None or self.cells is not None:
            return
        body = clean(" ".join(self.buf))
        self.buf.clear()
        if body:
            self.blocks.append(_Block(self._path(), body))

    def close(self) -> None:
        super().close()
        self.heading = None
        self.cells = None
        self._flush()


def _html_blocks(text: str) -> tuple[str, list[_Block]]:
    p = _HTMLBlocks()
    p.feed(text)
    p.close()
    return p.title, p.blocks


def _text_blocks(text: str) -> tuple[str, list[_Block]]:
    """Paragraphs separated by blank lines; a short first line without a full stop is the title."""
    paras = [clean(p) for p in re.split(r"\n\s*\n", text) if clean(p)]
    title = ""
    if paras and len(paras[0]) <= 80 and not paras[0].endswith((".", "。", "!", "?", "！", "？")):
        title = paras.pop(0)
    return title, [_Block((), p) for p in paras]


def _faq_passages(text: str) -> list[Passage]:
    """One passage per row: the question is its title, the answer its text (never split: an FAQ
    answer is already the unit a shop wrote for one question)."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise ParseError("empty CSV")
    head = [h.strip().lower() for h in rows[0]]
    if "question" not in head or "answer" not in head:
        raise ParseError(f"FAQ CSV needs a header with question,answer (got {','.join(rows[0])[:80]!r})")
    qi, ai = head.index("question"), head.index("answer")
    out: list[Passage] = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) > len(head):
            raise ParseError(f"row {n}: {len(row)} fields, the header has {len(head)} "
                             "(put an answer that contains commas in double quotes)")
        if len(row) <= max(qi, ai) or not row[qi].strip() or not row[ai].strip():
            raise ParseError(f"row {n}: needs both a question and an answer")
        q, a = clean(row[qi]), clean(row[ai])
        out.append(Passage(f"{slug(q)}:{len(out)}", q, a, len(out)))
    if not out:
        raise ParseError("no question,answer rows")
    return out


# ---------------------------------------------------------------- blocks → passages

def _merge(blocks: list[_Block], doc_title: str) -> list[_Block]:
    """List items and table rows join the paragraph before them under the same heading ("We may
    collect: name; email address; …"), so a passage is never a bare "name"; a block that only
    repeats its heading (a table caption) goes."""
    out: list[_Block] = []
    for b in blocks:
        heads = {doc_title.lower(), *(h.lower() for h in b.path)}
        if b.text.rstrip(".").lower() in heads:
            continue
        prev = out[-1] if out else None
        short = len(b.text) <= SHORT_BLOCK and not b.text.endswith((".", "。", "!", "?", "！", "？"))
        if prev is not None and prev.path == b.path and (prev.joins if b.joins else short and not prev.joins):
            sep = "；" if is_zh(prev.text) else "; "
            glue = "" if prev.text.endswith((":", "：")) else sep
            prev.text = prev.text.rstrip(";；") + (" " if glue == "" else glue) + b.text.rstrip(";；")
            prev.joins = prev.joins or b.joins
        else:
            out.append(_Block(b.path, b.text, b.joins, b.key))
    return out


def _passages(blocks: list[_Block], doc_title: str) -> list[Passage]:
    out: list[Passage] = []
    seen: dict[str, int] = {}
    for b in _merge(blocks, doc_title):
        title = " › ".join(b.path) or doc_title
        base = b.key or (slug(b.path[-1]) if b.path else "intro")
        limit = PASSAGE_CHARS["zh" if is_zh(b.text) else "en"]
        for text in [b.text] if b.joins else pack(b.text, limit):
            n = seen.get(base, 0)
            seen[base] = n + 1
            out.append(Passage(f"{base}:{n}", title, text, len(out)))
    return out


def read_text(path: Path) -> str:
    """The file as text (UTF-8, with or without a BOM); a binary or oversized file is refused."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror or exc}") from None
    if size > MAX_FILE_BYTES:
        raise ParseError(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise ParseError("binary file (not Markdown, HTML, text or CSV)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"not UTF-8 text (byte {exc.start})") from None


def format_of(name: str) -> str:
    fmt = FORMATS.get(Path(name).suffix.lower())
    if fmt is None:
        raise ParseError(f"unsupported file type {Path(name).suffix or '(none)'!r}; "
                         f"expected {', '.join(sorted(FORMATS))}")
    return fmt


def parse(text: str, source: str, *, fmt: str | None = None, lang: str | None = None) -> Document:
    """One document from its text; `lang` overrides the language detected from its words."""
    fmt = fmt or format_of(source)
    if not text.strip():
        raise ParseError("empty file")
    stem = Path(source).stem.replace("_", " ").replace("-", " ").strip() or source
    if fmt == "faq":
        passages, title = _faq_passages(text), stem
    else:
        split = {"markdown": _markdown_blocks, "html": _html_blocks, "text": _text_blocks}.get(fmt)
        if split is None:
            raise ParseError(f"unknown format {fmt!r}")
        title, blocks = split(text)
        title = title or stem
        passages = _passages(blocks, title)
    if not passages:
        raise ParseError("no text found")
    return Document(source, title, lang or detect_lang(title + " " + passages[0].text), fmt, passages)
