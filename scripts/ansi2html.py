#!/usr/bin/env python3
"""Turns a coloured terminal log into HTML the book can show in colour.

    python3 scripts/ansi2html.py < server.log > log.html

Reads text with ANSI colour codes (the server's log with CLICOLOR_FORCE=1) and
writes a <pre class="terminal"> block (no <code> inside, so that mdBook's
highlighter leaves it alone) in which every coloured run is a <span>
with a class per attribute (ansi-green, ansi-bright-cyan, ansi-dim...); the
colours themselves are in chapters/course.css. It knows the codes the `colored`
crate writes and fails on any other, rather than show the log wrongly.
"""
import html
import re
import sys

NAMES = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]
SGR = re.compile(r"\x1b\[([0-9;]*)m")


def classes_after(codes: list[int], state: dict) -> None:
    for code in codes or [0]:
        if code == 0:
            state.clear()
        elif code == 1:
            state["weight"] = "ansi-bold"
        elif code == 2:
            state["weight"] = "ansi-dim"
        elif code == 22:
            state.pop("weight", None)
        elif 30 <= code <= 37:
            state["fg"] = f"ansi-{NAMES[code - 30]}"
        elif 90 <= code <= 97:
            state["fg"] = f"ansi-bright-{NAMES[code - 90]}"
        elif code == 39:
            state.pop("fg", None)
        else:
            sys.exit(f"ansi2html: unknown colour code {code}")


def convert(text: str) -> str:
    if "\x1b" in SGR.sub("", text):
        sys.exit("ansi2html: an escape sequence that is not a colour")
    out = ['<pre class="terminal">']
    state: dict = {}
    pos = 0
    for match in SGR.finditer(text):
        out.append(span(text[pos : match.start()], state))
        codes = [int(c) for c in match.group(1).split(";") if c]
        classes_after(codes, state)
        pos = match.end()
    out.append(span(text[pos:], state))
    out.append("</pre>")
    return "".join(out).replace("\n</pre>", "</pre>") + "\n"


def span(text: str, state: dict) -> str:
    if not text:
        return ""
    escaped = html.escape(text, quote=False)
    if not state:
        return escaped
    return f'<span class="{" ".join(sorted(state.values()))}">{escaped}</span>'


if __name__ == "__main__":
    sys.stdout.write(convert(sys.stdin.read()))
