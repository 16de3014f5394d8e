from click.testing import CliRunner

from harness.cli import main


def test_help_lists_the_program():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "Unmasking Bias" in result.output


def test_every_verb_resolves_and_has_help():
    runner = CliRunner()
    for verb in main.list_commands(None):
        result = runner.invoke(main, [verb, "--help"])
        assert result.exit_code == 0, (verb, result.output)
        assert "Usage:" in result.output


def test_unknown_verb_is_a_usage_error():
    result = CliRunner().invoke(main, ["trian"])
    assert result.exit_code == 2
    assert "No such command" in result.output
