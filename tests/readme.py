"""Reading README.md: its sections and their fenced code blocks, so tests can run them."""

from __future__ import annotations

import re

from tests.process import ROOT

README = ROOT / "README.md"
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def section(title: str | None = None) -> str:
    """The text under `## title` up to the next `## `; the first screen (before any `## `)
    when no title is given."""
    text = README.read_text()
    parts = re.split(r"^## ", text, flags=re.MULTILINE)
    if title is None:
        return parts[0]
    for part in parts[1:]:
        if part.startswith(title + "\n"):
            return part
    raise AssertionError(f"README.md has no section '## {title}'")


def blocks(text: str, language: str) -> list[str]:
    """The fenced code blocks of `language` in `text`, in order."""
    return [body for lang, body in _BLOCK.findall(text) if lang == language]


def shell_commands(block: str) -> list[str]:
    """The commands of a shell block: each starts at column 0; indented lines continue it."""
    commands: list[str] = []
    for line in block.splitlines():
        if line and not line[0].isspace():
            commands.append(line)
        elif commands:
            commands[-1] += "\n" + line
    return commands
