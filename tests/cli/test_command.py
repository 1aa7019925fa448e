"""The ``fnact`` command itself: help, usage errors, the installed script."""

from __future__ import annotations

import subprocess

import pytest

from tests.cli.conftest import ROOT, SCRIPT, clean_env, error_line, fnact


def test_help_lists_the_three_commands() -> None:
    """``fnact --help`` names dev, worker and watch and exits 0."""
    result = fnact("--help")
    assert result.returncode == 0
    for command in ("dev", "worker", "watch"):
        assert f"    {command} " in result.stdout


def test_no_command_is_a_usage_error() -> None:
    """Without a command, fnact prints its usage and exits 2."""
    result = fnact()
    assert result.returncode == 2
    assert result.stderr.startswith("usage: fnact")
    assert "Traceback" not in result.stderr


def test_bad_option_value_is_a_usage_error() -> None:
    """A watch interval that is not a positive number is refused with exit code 2."""
    result = fnact("watch", "some-id", "--interval", "0")
    assert result.returncode == 2
    assert "not a positive number of seconds: '0'" in result.stderr


def test_installed_script_runs_the_command() -> None:
    """The ``fnact`` console script runs the same command as ``python -m fnact``."""
    result = subprocess.run(
        [str(SCRIPT), "worker", "no_such_package.worker:spec"],
        cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "no module named 'no_such_package'" in error_line(result.stderr)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("bad address", "--address 'bad address': not HOST:PORT; expected HOST:PORT, like "
         "localhost:7233"),
        ("bad::addr", "--address 'bad::addr': not HOST:PORT"),
        ("localhost", "--address 'localhost': no port; expected HOST:PORT"),
        ("localhost:70000", "--address 'localhost:70000': port 70000 is out of range"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("command", ["watch", "worker"])
def test_a_malformed_address_is_a_one_line_usage_error(
    command: str, address: str, expected: str
) -> None:
    """Each command checks --address before connecting: one line naming it, exit code 2."""
    target = "wf-1" if command == "watch" else "examples.metadata.worker:spec"
    result = fnact(command, target, "--address", address)
    assert result.returncode == 2
    assert expected in error_line(result.stderr)


def test_a_malformed_environment_address_names_its_source() -> None:
    """TEMPORAL_ADDRESS without a port is reported as the environment's, not as --address."""
    result = fnact("watch", "wf-1", TEMPORAL_ADDRESS="temporal.internal")
    assert result.returncode == 2
    assert (
        "environment configuration (TEMPORAL_ADDRESS or a profile) 'temporal.internal': no "
        "port" in error_line(result.stderr)
    )
