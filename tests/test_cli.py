from click.testing import CliRunner

from harness.cli import main


def test_help_lists_the_program():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "Unmasking Bias" in result.output
