"""Reading the Dockerfile: its instructions, stage by stage, continuation lines joined."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass

from tests.process import ROOT

DOCKERFILE = ROOT / "Dockerfile"


@dataclass(frozen=True)
class Instruction:
    stage: str
    keyword: str
    arguments: str

    def exec_form(self) -> list[str]:
        """The arguments of an exec-form instruction (`CMD ["a", "b"]`)."""
        value = json.loads(self.arguments)
        assert isinstance(value, list), f"{self.keyword} is not in exec form"
        return [str(item) for item in value]

    def healthcheck_command(self) -> list[str]:
        """The command of a `HEALTHCHECK [options] CMD [...]` instruction."""
        _, found, command = self.arguments.partition(" CMD ")
        assert found, "HEALTHCHECK has no CMD"
        return Instruction(self.stage, "CMD", command).exec_form()

    def words(self) -> list[str]:
        """The arguments split as a shell would, `--flag` options of the instruction dropped."""
        words = shlex.split(self.arguments)
        while words and words[0].startswith("--") and self.keyword in {"RUN", "COPY"}:
            words.pop(0)
        return words


def instructions() -> list[Instruction]:
    found: list[Instruction] = []
    stage = ""
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.removesuffix("\\") + " " if line.endswith("\\") else line
        if line.endswith("\\"):
            continue
        keyword, _, arguments = pending.strip().partition(" ")
        pending = ""
        if keyword == "FROM":
            stage = arguments.split()[-1]
        found.append(Instruction(stage, keyword, arguments.strip()))
    return found


def instruction(keyword: str, stage: str = "runtime") -> Instruction:
    """The last `keyword` instruction of `stage`."""
    matching = [i for i in instructions() if i.keyword == keyword and i.stage == stage]
    assert matching, f"stage {stage!r} of the Dockerfile has no {keyword}"
    return matching[-1]


def commands(stage: str) -> list[list[str]]:
    """Every shell command of the stage's RUN instructions (split at `&&`), as words."""
    found = []
    for run in (i for i in instructions() if i.keyword == "RUN" and i.stage == stage):
        words = run.words()
        while words:
            end = words.index("&&") if "&&" in words else len(words)
            found.append(words[:end])
            words = words[end + 1 :]
    return found
