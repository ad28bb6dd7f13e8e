"""The README and docs/ only show commands, options, files and links that exist (as Datasette tests its docs).

Fast and offline: the Markdown is read and compared with click's own command objects and the
repository's files; nothing is run or installed.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import click

from cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
CHANGELOG = ROOT / "CHANGELOG.md"
# Files whose commands must exist. CHANGELOG.md is left out on purpose: it names what was removed.
# .env.example is in because its comments tell people which command to run.
COMMAND_FILES = [README, *DOCS, ROOT / ".env.example"]
MAX_README_LINES = 250

INLINE_CODE = re.compile(r"`([^`]+)`")
# A snippet that is a command: `buurtbeeld ...` (also `$ buurtbeeld`, `.venv/bin/buurtbeeld`) or `python3 dev.py ...`.
COMMAND_LINE = re.compile(r"(\$ )?(\S*/)?buurtbeeld(\s|$)|(\$ )?python3 dev\.py(\s|$)")
LINK_TARGET = re.compile(r"\]\(([^)\s]+)\)")
# A path into the repository's own source folders, as docs name them (`etl/data/mk_categorieen.csv`).
REPO_PATH = re.compile(r"^(?:buurtbeeld|etl|schemas|warehouse|dashboard|dags|docker|tests|benchmarks|\.ci)/[\w./-]*$")


def where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


def code_snippets(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of every line in a fenced code block and every inline `code` span.

    Inline spans are found in the prose as a whole, not line by line, because a span may wrap onto
    the next line; its line number is where it starts."""
    prose = []
    in_block = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.lstrip().startswith("```"):
            in_block = not in_block
            prose.append("")
        elif in_block:
            prose.append("")  # keeps the line numbers of the prose right
            yield number, line.strip()
        else:
            prose.append(line)
    text = "\n".join(prose)
    for span in INLINE_CODE.finditer(text):
        yield text.count("\n", 0, span.start()) + 1, " ".join(span.group(1).split())


def shell_words(text: str) -> list[str]:
    """The words of a command line as the shell splits them, comments dropped, `$ ` prompt removed."""
    return shlex.split(text.removeprefix("$ "), comments=True)


def dev_commands() -> set[str]:
    """What `python3 dev.py X` accepts, read from dev.py itself: it dispatches on `command == "X"`."""
    source = (ROOT / "dev.py").read_text(encoding="utf-8")
    return set(re.findall(r'command == "(\w+)"', source))


def option_names(command: click.Command) -> set[str]:
    names = set(cli.context_settings["help_option_names"])  # -h/--help, inherited by every subcommand
    for param in command.params:
        if isinstance(param, click.Option):
            names.update(param.opts, param.secondary_opts)  # secondary: --no-serve of --serve/--no-serve
    return names


def cli_problem(words: list[str]) -> str | None:
    """Why `buurtbeeld WORDS...` names a subcommand or option that does not exist, or None.

    Subcommands are followed down click's groups; an option is checked against the command reached
    so far. Other words are arguments (files, batch ids, months) or option values and are not checked.
    Square brackets mark optional parts in the docs and are ignored."""
    command: click.Command = cli
    reached = ["buurtbeeld"]
    for raw in words:
        word = raw.strip("[]")
        if not word or word == "...":
            continue
        if word.startswith("-"):
            name = word.split("=", 1)[0]
            if name not in option_names(command):
                return f"'{' '.join(reached)}' has no option {name}"
        elif isinstance(command, click.Group):
            if word not in command.commands:
                known = ", ".join(sorted(command.commands))
                return f"'{' '.join(reached)}' has no subcommand '{word}' (it has: {known})"
            command = command.commands[word]
            reached.append(word)
    return None


def command_problem(text: str) -> str | None:
    """Why a documented `buurtbeeld ...` or `python3 dev.py ...` line would fail, or None."""
    try:
        words = shell_words(text)
    except ValueError as exc:  # unbalanced quotes: not a command anyone can paste
        return f"cannot be split as a shell command ({exc})"
    if words[0] == "python3":
        if len(words) < 3 or words[2] not in dev_commands():
            return f"dev.py has no command '{' '.join(words[2:3])}' (it has: {', '.join(sorted(dev_commands()))})"
        # `dev.py demo` and `serve` hand their arguments to `buurtbeeld`; test and airflow pass theirs to
        # pytest and Airflow, which are not ours to check.
        return cli_problem([words[2], *words[3:]]) if words[2] in ("demo", "serve") else None
    return cli_problem(words[1:])


def test_readme_is_short_and_links_every_doc_page() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines; at most {MAX_README_LINES}"
    targets = set(LINK_TARGET.findall("\n".join(lines)))
    wanted = [f"docs/{page.name}" for page in DOCS] + [CHANGELOG.name]
    missing = [page for page in wanted if page not in targets]
    assert DOCS, "docs/ holds no pages"
    assert not missing, f"README.md does not link to: {', '.join(missing)}"


def test_every_documented_command_exists() -> None:
    problems, checked = [], 0
    for path in COMMAND_FILES:
        for line, text in code_snippets(path):
            if not COMMAND_LINE.match(text):
                continue
            checked += 1
            problem = command_problem(text)
            if problem:
                problems.append(f"{where(path, line)}: {problem}\n    {text}")
    assert not problems, "Documented commands that do not exist:\n" + "\n".join(problems)
    # Guard against a parser that silently finds nothing (a changed fence style, say).
    assert checked >= 20, f"only {checked} commands found in the docs; is the parser still right?"


def test_command_check_catches_what_it_should() -> None:
    # The mistakes this test is for: a command renamed or never made, an option misspelt.
    assert command_problem("buurtbeeld gebruiker hash") is not None
    assert command_problem("buurtbeeld load bvh x.xlsx --jaar 2024") is not None
    assert command_problem("python3 dev.py bench") is not None
    assert command_problem("python3 dev.py demo --no-serve") is None
    assert command_problem("$ buurtbeeld load bvh x.xlsx [--jaar-indeling 2024]  # comment") is None


def test_docs_stay_inside_the_repository() -> None:
    problems = []
    for path in [README, *DOCS, CHANGELOG]:
        text = path.read_text(encoding="utf-8")
        for line, content in enumerate(text.splitlines(), start=1):
            # The real-data folder beside the checkout is not part of the repository: readers lack it.
            if "../shared" in content:
                problems.append(f"{where(path, line)}: refers to ../shared, outside the repository")
            for target in LINK_TARGET.findall(content):
                if re.match(r"[a-z]+:", target) or target.startswith("#"):
                    continue  # web addresses and anchors in the same page
                resolved = (path.parent / target.split("#")[0]).resolve()
                if not resolved.is_relative_to(ROOT) or not resolved.exists():
                    problems.append(f"{where(path, line)}: link to {target}, which is not in the repository")
        for line, snippet in code_snippets(path):
            for word in snippet.split():
                if REPO_PATH.match(word) and not (ROOT / word).exists():
                    problems.append(f"{where(path, line)}: names {word}, which does not exist")
    assert not problems, "\n".join(problems)
