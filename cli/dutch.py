"""Click's own words (help frame, usage errors) in Dutch, so the whole CLI speaks one language.

Click translates through `gettext.gettext`/`ngettext`, bound by name in each of its modules at import.
The process-wide gettext domain would also translate other libraries and would depend on the user's
LANG, and a compiled .mo catalogue needs a build step; so this module gives Click's modules, and only
those, a catalogue of their user-facing messages. Messages not listed stay English (they are
programmer errors such as a parameter declared twice, which a user never sees).
"""

from __future__ import annotations

import gettext
import importlib

import click

MESSAGES = {
    "Usage:": "Gebruik:",
    "Options": "Opties",
    "Commands": "Opdrachten",
    "Positional arguments": "Argumenten",
    "Show this message and exit.": "Toon deze hulp en stop.",
    "Show the version and exit.": "Toon de versie en stop.",
    "%(prog)s, version %(version)s": "%(prog)s, versie %(version)s",
    "Error: {message}": "Fout: {message}",
    "Try '{command} {option}' for help.": "Zie '{command} {option}' voor hulp.",
    "No such command {name!r}.": "Onbekende opdracht {name!r}.",
    "No such option {name!r}.": "Onbekende optie {name!r}.",
    "Missing command.": "Geef een opdracht.",
    "Missing argument": "Argument ontbreekt",
    "Missing option": "Optie ontbreekt",
    "Missing parameter": "Parameter ontbreekt",
    "Missing parameter: {param_name}": "Parameter ontbreekt: {param_name}",
    "Missing {param_type}": "{param_type} ontbreekt",
    "Invalid value for {param_hint}: {message}": "Ongeldige waarde voor {param_hint}: {message}",
    "Invalid value: {message}": "Ongeldige waarde: {message}",
    "Option {name!r} does not take a value.": "Optie {name!r} neemt geen waarde.",
    "Aborted!": "Afgebroken.",
    "Do you want to continue?": "Doorgaan?",
    "Repeat for confirmation": "Herhaal ter bevestiging",
    "Error: The two entered values do not match.": "Fout: de twee ingevoerde waarden zijn niet gelijk.",
    "Error: invalid input": "Fout: ongeldige invoer",
    "Confirm the action without prompting.": "Bevestig zonder te vragen.",
    "default: {default}": "standaard: {default}",
    "required": "verplicht",
    "env var: {var}": "omgevingsvariabele: {var}",
    "Choose from:\n\t{choices}": "Kies uit:\n\t{choices}",
    "{value!r} is not a valid {number_type}.": "{value!r} is geen geldig getal.",
    "{value} is not in the range {range}.": "{value} ligt niet in het bereik {range}.",
    "{value!r} is not a valid boolean. Recognized values: {states}": (
        "{value!r} is geen geldige ja/nee-waarde. Mogelijk: {states}"
    ),
    "file": "bestand",
    "directory": "map",
    "path": "pad",
    "{name} {filename!r} does not exist.": "{name} {filename!r} bestaat niet.",
    "{name} {filename!r} is a file.": "{name} {filename!r} is een bestand.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} is een map.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} is niet leesbaar.",
    "{name} {filename!r} is not writable.": "{name} {filename!r} is niet schrijfbaar.",
    "{name} {filename!r} is not executable.": "{name} {filename!r} is niet uitvoerbaar.",
    "Could not open file {filename!r}: {message}": "Kan bestand {filename!r} niet openen: {message}",
}
PLURALS = {
    "Got unexpected extra argument ({args})": (
        "Onverwacht extra argument ({args})",
        "Onverwachte extra argumenten ({args})",
    ),
    "Option {name!r} requires an argument.": (
        "Optie {name!r} vraagt een waarde.",
        "Optie {name!r} vraagt {nargs} waarden.",
    ),
    "Did you mean {possibility}?": ("Bedoelt u {possibility}?", "(Bedoelt u een van: {possibilities}?)"),
    "{value!r} is not {choice}.": ("{value!r} is niet {choice}.", "{value!r} is niet een van {choices}."),
    "{value!r} does not match the format {format}.": (
        "{value!r} past niet in de vorm {format}.",
        "{value!r} past niet in een van de vormen {formats}.",
    ),
    "Takes {nargs} values but 1 was given.": (
        "Vraagt {nargs} waarden, er is er 1 gegeven.",
        "Vraagt {nargs} waarden, er zijn er {len} gegeven.",
    ),
}
CLICK_MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "termui", "types", "utils")
OPTIONS_METAVAR = "[OPTIES]"
SUBCOMMAND_METAVAR = "OPDRACHT [ARGUMENTEN]..."


class _Catalogue(gettext.NullTranslations):
    def gettext(self, message: str) -> str:
        return MESSAGES.get(message, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        one, many = PLURALS.get(singular, (singular, plural))
        return one if n == 1 else many


def install() -> None:
    """Give Click's modules the Dutch catalogue (idempotent)."""
    catalogue = _Catalogue()
    for name in CLICK_MODULES:
        module = importlib.import_module(f"click.{name}")
        if hasattr(module, "_"):
            module._ = catalogue.gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = catalogue.ngettext  # type: ignore[attr-defined]


class Command(click.Command):
    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("options_metavar", OPTIONS_METAVAR)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


class Group(click.Group):
    """A group whose commands and subgroups print their usage line in Dutch too."""

    command_class = Command
    group_class = type  # subgroups are of this class as well

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("options_metavar", OPTIONS_METAVAR)
        kwargs.setdefault("subcommand_metavar", SUBCOMMAND_METAVAR)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
