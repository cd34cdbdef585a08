"""Reading Markdown as GitHub renders it, for scripts/check_docs.py: fenced blocks, commands,
links, heading anchors and tables. No dependency beyond the standard library."""

import os
import re
from dataclasses import dataclass, field

FENCE = re.compile(r"^( *)(```+|~~~+)\s*([\w+-]*)\s*$")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


@dataclass
class Block:
    """One fenced block: its language tag, its lines (indentation of the fence removed), where
    it starts, and the paragraph just before it (which says what it is)."""
    path: str
    line: int
    lang: str
    lines: list
    before: str = ""

    @property
    def where(self):
        return "%s:%d" % (self.path, self.line)


@dataclass
class Doc:
    path: str
    text: str
    blocks: list = field(default_factory=list)
    # The text without fenced blocks: where links, headings and tables are read.
    prose: list = field(default_factory=list)  # (line number, line)


def read(path):
    with open(path, encoding="utf-8") as f:
        return parse(path, f.read())


def parse(path, text):
    doc = Doc(path, text)
    fence, indent, block = None, 0, None
    paragraph, prose_open = [], False
    for number, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if fence is None and m:
            fence, indent = m.group(2), len(m.group(1))
            block = Block(path, number, m.group(3), [], " ".join(paragraph))
            prose_open = False
            continue
        if fence is not None:
            if m and m.group(2).startswith(fence[0]) and len(m.group(2)) >= len(fence) and not m.group(3):
                doc.blocks.append(block)
                fence = None
            else:
                block.lines.append(line[indent:] if line[:indent].strip() == "" else line)
            continue
        doc.prose.append((number, line))
        if line.strip():
            paragraph = (paragraph if prose_open else []) + [line.strip()]
        prose_open = bool(line.strip())
    return doc


def commands(block):
    """The commands of an `sh` block: continuation lines joined, comment lines dropped."""
    out, pending = [], ""
    for line in block.lines:
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1].rstrip() + " "
            continue
        out.append(pending + stripped)
        pending = ""
    if pending:
        out.append(pending.strip())
    return out


def console(block):
    """The `$ command` lines of a `console` block, each with the output lines under it."""
    out = []
    for line in block.lines:
        if line.startswith("$ "):
            out.append((line[2:].strip(), []))
        elif out:
            out[-1][1].append(line)
    return out


def without_code(line):
    return CODE_SPAN.sub("", line)


def links(doc):
    """(line, target) of every link outside code."""
    for number, line in doc.prose:
        for m in LINK.finditer(without_code(line)):
            yield number, m.group(1)


def slug(heading):
    """GitHub's anchor of a heading: the text without markup, lower case, punctuation dropped,
    spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = text.replace("`", "").replace("*", "")
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(doc):
    """Every heading's anchor, with -1, -2... for repeats, as GitHub numbers them."""
    seen, out = {}, set()
    for _, line in doc.prose:
        m = HEADING.match(line)
        if not m:
            continue
        base = slug(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else "%s-%d" % (base, n))
    return out


def tables(doc):
    """Every table: (line of its header, header cells, rows of cells)."""
    out, current = [], None
    for number, line in doc.prose:
        stripped = line.strip()
        if stripped.startswith("|") and stripped.endswith("|"):
            cells = [c.strip() for c in stripped.strip("|").split("|")]
            if current is None:
                current = (number, cells, [])
            elif not all(re.fullmatch(r":?-+:?", c) for c in cells if c):
                current[2].append(cells)
            continue
        if current is not None:
            out.append(current)
            current = None
    if current is not None:
        out.append(current)
    return out


def code_spans(text):
    return [m.group(2).strip() for m in CODE_SPAN.finditer(text)]


def resolve(doc_path, target):
    """The file a relative link of `doc_path` reaches, and its anchor ("" when none)."""
    path, _, anchor = target.partition("#")
    if not path:
        return doc_path, anchor
    return os.path.normpath(os.path.join(os.path.dirname(doc_path), path)), anchor
