"""Reading README.md and docs/*.md: their sections and fenced code blocks, so tests can run
them."""

from __future__ import annotations

import re

from tests.process import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def section(title: str | None = None, document: str = "README.md") -> str:
    """The text under `## title` up to the next `## ` of `document` (README.md, or a file
    of docs/); the first screen (before any `## `) when no title is given."""
    path = README if document == "README.md" else DOCS / document
    parts = re.split(r"^## ", path.read_text(), flags=re.MULTILINE)
    if title is None:
        return parts[0]
    for part in parts[1:]:
        if part.startswith(title + "\n"):
            return part
    raise AssertionError(f"{document} has no section '## {title}'")


def python_example(marker: str) -> str:
    """The Python example after `<!-- test: marker -->` in README.md or a file of docs/."""
    for path in [README, *sorted(DOCS.glob("*.md"))]:
        found = re.search(rf"<!-- test: {marker} -->\n```python\n(.*?)```", path.read_text(), re.S)
        if found:
            return found.group(1)
    raise AssertionError(f"no example marked {marker}")


def document(name: str) -> str:
    """The whole text of docs/<name>."""
    return (DOCS / name).read_text()


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
