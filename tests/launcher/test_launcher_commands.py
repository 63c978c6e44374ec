"""``lesde up`` and ``lesde demo`` reach the CLI through the launcher's entry points."""

from __future__ import annotations

import pytest
from lesde import cli
from lesde_launcher import commands


def test_installed_launcher_adds_up_and_demo():
    parser = cli.build_parser()
    up = parser.parse_args(["up", "--port", "8123"])
    assert up.func is commands.cmd_up and up.port == 8123 and up.host == "127.0.0.1"
    demo = parser.parse_args(["demo", "spec.json", "--keep"])
    assert demo.func is commands.cmd_demo and demo.spec == "spec.json" and demo.keep


def test_without_the_launcher_up_and_demo_say_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setattr(cli, "entry_points", lambda group: [])
    assert cli.main(["up", "--port", "8123"]) == 2
    assert cli.main(["demo", "examples/geomnist-small.json"]) == 2
    err = capsys.readouterr().err
    assert "`lesde up`" in err and "`lesde demo`" in err and "./services/launcher" in err


def test_other_commands_still_refuse_unknown_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["list", "--no-such-option"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err
