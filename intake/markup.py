"""Web-form markup in appeal text: HTML tags and character entities → plain text.

A mayor's-mailbox form with a rich-text editor, or a call-centre system that stores its
notes as HTML, sends ``<p>小区路灯坏了</p><p>电话138&nbsp;1234&nbsp;5678</p>``. Left as it
is, departments read the tags, the classifier and the keyword rules see ``nbsp`` and
``span``, and an entity between digits keeps a phone number from being masked. Only the
tags such editors write are removed (a citizen's ``温度<0度`` or ``<<物业管理条例>>`` stays),
and only well-formed entities are decoded.
"""

from __future__ import annotations

import html
import re

#: Tags that end a line: paragraphs, line breaks, list items, table rows, headings.
_BREAK_TAGS = re.compile(
    r"<\s*(?:br|/p|/div|/li|/tr|/h[1-6]|/blockquote|/pre|hr)\b[^<>]{0,200}>", re.IGNORECASE
)
#: Any other tag of the set rich-text editors write (opening, closing or empty).
_TAGS = re.compile(
    r"<\s*/?\s*(?:p|div|span|font|strong|b|i|u|em|s|strike|a|img|li|ul|ol|table|tbody|thead"
    r"|tr|td|th|h[1-6]|o:p|sub|sup|blockquote|pre|center|section|article|label|small|big"
    r"|style|script)\b[^<>]{0,500}>",
    re.IGNORECASE,
)
#: Content that is never text: a style or script block, from its opening tag to the
#: first closing tag of its name.
_BLOCK_OPEN = re.compile(r"<\s*(style|script)\b[^<>]*>", re.IGNORECASE)
_BLOCK_CLOSE = {
    name: re.compile(rf"<\s*/\s*{name}\s*>", re.IGNORECASE) for name in ("style", "script")
}
#: A named (``&nbsp;``, ``&ldquo;``) or numeric (``&#65292;``, ``&#x3001;``) entity.
_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,7}|#[0-9]{2,7}|#[xX][0-9A-Fa-f]{2,6});")
# from the start of a run only: tried at each of its spaces, a long run of them with no
# line break after it cost time in the square of its length
_SPACES_BEFORE_BREAK = re.compile(r"(?<![ \t\u00a0])[ \t\u00a0]+\n")
_BLANK_LINES = re.compile(r"\n{3,}")


def plain_text(text: str) -> str:
    """``text`` without editor markup: tags removed (line-ending ones become line breaks),
    entities decoded (``&nbsp;`` becomes a space). Text without ``<`` or ``&`` is returned
    as it is.
    """
    if "<" not in text and "&" not in text:
        return text
    changed = text
    if "<" in changed:
        changed = _without_blocks(changed)
        changed = _BREAK_TAGS.sub("\n", changed)
        changed = _TAGS.sub("", changed)
    if "&" in changed and _ENTITY.search(changed):
        changed = _ENTITY.sub(lambda m: html.unescape(m.group()), changed)
        changed = changed.replace("\u00a0", " ")
    if changed == text:
        return text
    changed = _SPACES_BEFORE_BREAK.sub("\n", changed)
    return _BLANK_LINES.sub("\n\n", changed)


def _without_blocks(text: str) -> str:
    """``text`` without its style and script blocks.

    One regular expression (opening tag, lazy anything, closing tag) scanned to the end
    of the text from every opening tag without a closing one: a record of 80,000
    characters of ``<style>`` took 3 s. Here each name whose closing tag is missing
    is looked for once.
    """
    kept, end, unclosed = [], 0, set()
    for opening in _BLOCK_OPEN.finditer(text):
        name = opening.group(1).lower()
        if opening.start() < end or name in unclosed:
            continue  # inside a block already removed, or no closing tag after it
        closing = _BLOCK_CLOSE[name].search(text, opening.end())
        if closing is None:
            unclosed.add(name)  # no later opening of this name closes either
            continue
        kept.append(text[end : opening.start()])
        end = closing.end()
    if not kept:
        return text
    kept.append(text[end:])
    return "".join(kept)
