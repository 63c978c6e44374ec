"""The ``lesde`` command explains itself: every subcommand, argument and option has help,
and every option says its default, down to ``lesde sweep ...`` and the launcher's commands."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest
from lesde import cli


def _commands(parser: argparse.ArgumentParser, path: str = "lesde") -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """``(command path, parser)`` for ``parser`` and every subcommand below it, depth first."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _commands(child, f"{path} {name}")


def _subcommand_help(parser: argparse.ArgumentParser) -> dict[str, str | None]:
    """Each subcommand's one-line help as ``lesde ... --help`` lists it."""
    return {
        choice.dest: choice.help
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for choice in action._choices_actions
    }


COMMANDS = dict(_commands(cli.build_parser()))


def test_the_walk_reaches_every_level():
    for expected in (
        "lesde submit",
        "lesde simulate",
        "lesde wait",
        "lesde sweep submit",
        "lesde sweep table",
        "lesde up",
        "lesde demo",
        "lesde keys add",
    ):
        assert expected in COMMANDS


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_every_argument_has_help_and_every_option_its_default(path):
    parser = COMMANDS[path]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if isinstance(action, argparse._SubParsersAction):
            missing = [name for name, text in _subcommand_help(parser).items() if not text]
            assert not missing, f"{path}: subcommands without help: {missing}"
            continue
        name = action.option_strings[0] if action.option_strings else action.dest
        assert action.help, f"{path} {name}: no help"
        if action.option_strings or action.default is not None:
            assert "default" in action.help, f"{path} {name}: its default is not said"


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_help_renders(path, capsys):
    """``%(default)s`` and the other placeholders expand without error in every help page."""
    COMMANDS[path].print_help()
    assert capsys.readouterr().out.startswith(f"usage: {path}")


def test_top_level_help_tells_the_url_the_key_and_the_exit_codes():
    text = cli.build_parser().format_help()
    assert "LESDE_URL" in text and "LESDE_API_KEY" in text and "Authorization: Bearer" in text
    assert "no --api-key option" in text and "3 no answer from the server" in text
    assert "--url" in COMMANDS["lesde submit"].format_help()  # after the subcommand too
