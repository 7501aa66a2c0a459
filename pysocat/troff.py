"""The troff a man page is written in, for the generated parts of pysocat(1) (pure).

Everything the generator puts into the page passes through here, so that the page is
clean for `groff -ww` and `mandoc -Tlint` whatever text the tables hold: escapes for the
characters troff gives a meaning, sentences that start in upper case although the
tables' help texts (written to follow a colon in -hhh) do not, no empty paragraphs, and
no input line longer than 80 bytes.
"""
from __future__ import annotations

import re

MAX_LINE = 80  # bytes; mandoc -Tlint: "input text line longer than 80 bytes"

# First words of help texts that are names and must keep their case (fcntl F_SETLK ...,
# tun or tap); a first word with a parenthesis is a call (chroot(), flock(LOCK_EX)).
KEEP_CASE = frozenset({"fcntl", "setsockopt", "tun", "socat", "pysocat"})

HEADINGS = (".SH", ".SS")
BLOCKS = HEADINGS + (".PP", ".LP", ".TP", ".IP")  # a paragraph macro right before one is empty

_CODE = re.compile(r"`([^`]+)`")


def escape(text: str) -> str:
    """troff escapes: backslash, a leading dot or quote, and hyphens in option names."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    if text.startswith((".", "'")):
        text = "\\&" + text
    return text


def macro_argument(text: str) -> str:
    """Escaped text for a macro line (.B, .SS): a double quote there would group words."""
    return escape(text).replace('"', "\\(dq")


LONG_WORD = 56  # characters; a word longer than this may not fit an indented 80-column line


def unhyphenated(troff_text: str) -> str:
    """Words that must not be hyphenated (commands, option names): \\% before each, and in
    a word too long for a line break points (\\:) after its colons and commas instead."""
    words = []
    for word in troff_text.split(" "):
        if len(word) > LONG_WORD:
            word = re.sub(r"([:,])(?!$)", r"\1\\:", word)
        words.append(f"\\%{word}" if word else word)
    return " ".join(words)


def bold_tag(text: str, width: int = 64) -> list[str]:
    """A .TP tag in bold and never hyphenated (a command line, a usage, an option); one
    wider than a line is set unadjusted, so that its breaks (at spaces) do not spread the
    words over the whole line."""
    line = f".B {unhyphenated(macro_argument(text))}"
    return [".TP", ".na", line, ".ad"] if len(text) > width else [".TP", line]


def sentence(text: str) -> str:
    """A help text as the start of a sentence: upper case first, unless it starts with a name."""
    first = text.split(" ", 1)[0]
    if not text or "(" in first or re.split(r"[':,]", first)[0] in KEEP_CASE:
        return text
    return text[0].upper() + text[1:]


def inline(text: str) -> str:
    """Escaped text in which `code` becomes bold, as the tables' prose marks commands."""
    return _CODE.sub(lambda match: f"\\fB{unhyphenated(match.group(1))}\\fR", escape(text))


def _split_points(line: str) -> list[int]:
    """Where a text line may be broken: a space not escaped, and not right after an
    abbreviation (troff would take the line end for the end of a sentence)."""
    points = []
    for match in re.finditer(r"(?<!\\) +", line):
        before = line[:match.start()]
        after = line[match.end():]
        if not after:
            continue
        if before.endswith(".") and not after[:1].isupper():
            continue  # "e.g. 0600": a break here would add a sentence space
        points.append(match.start())
    return points


def wrap_line(line: str) -> list[str]:
    """A text line split into lines of at most MAX_LINE bytes (where spaces allow)."""
    out: list[str] = []
    while len(line.encode()) > MAX_LINE:
        points = _split_points(line)
        fitting = [p for p in points if len(line[:p].encode()) <= MAX_LINE]
        cut = fitting[-1] if fitting else (points[0] if points else None)
        if cut is None:
            break
        out.append(line[:cut])
        line = line[cut:].lstrip(" ")
        if line.startswith((".", "'")):
            line = "\\&" + line
    out.append(line)
    return out


def tidy(page: str) -> str:
    """The whole page made lint-clean: long text lines wrapped (not inside .nf blocks,
    which keep their layout), and paragraph macros that would start an empty paragraph
    (after a heading, another paragraph macro or at the end of a section) removed."""
    lines = page.split("\n")
    out: list[str] = []
    no_fill = False
    for index, line in enumerate(lines):
        if line == ".PP":
            previous = out[-1] if out else ""
            following = next((later for later in lines[index + 1:] if not later.startswith('.\\"')), "")
            if previous.startswith(HEADINGS + (".PP",)) or not following or following.startswith(BLOCKS):
                continue
        if line.startswith(".nf"):
            no_fill = True
        elif line.startswith(".fi"):
            no_fill = False
        if no_fill or line.startswith((".", "'")):
            out.append(line)
        else:
            out.extend(wrap_line(line))
    return "\n".join(out)


def docstring_section(text: str) -> str:
    """A module's design notes as man page text: headings underlined with = become .SS,
    blocks indented four spaces (the byte tables) are set as they are, paragraphs that
    start with "- " become bullets, the rest is filled; `code` marks are dropped."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip("\n")):
        lines = block.splitlines()
        if len(lines) >= 2 and set(lines[1].strip()) == {"="}:
            out.append(f".SS {macro_argument(_plain(lines[0].strip()))}")
            lines = lines[2:]
            if not lines:
                continue
        if all(line.startswith("    ") for line in lines):
            out += [".PP", ".nf"] + [escape(_plain(line[4:])) for line in lines] + [".fi"]
            continue
        words = " ".join(line.strip() for line in lines)
        if words.endswith("::"):
            words = words[:-1]
        if words.startswith("- "):
            out += [".IP \\(bu 2", escape(_plain(words[2:]))]
        else:
            out += [".PP", escape(_plain(words))]
    return "\n".join(out)


def _plain(text: str) -> str:
    return text.replace("``", "").replace("`", "")


__all__ = ["bold_tag", "docstring_section", "escape", "inline", "macro_argument", "sentence", "tidy", "wrap_line"]
