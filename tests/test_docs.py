"""The README's configuration table names every variable the settings read."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def settings_variables() -> set[str]:
    source = (ROOT / "gateway" / "settings.py").read_text()
    return set(re.findall(r'\benv\(\s*"([A-Z0-9_]+)"', source))


def readme_table_variables() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    return set(re.findall(r"^\| `([A-Z0-9_]+)` \|", readme, flags=re.MULTILINE))


def test_readme_configuration_table_lists_every_setting() -> None:
    variables = settings_variables()

    assert len(variables) >= 20  # the pattern still finds the settings
    assert variables - readme_table_variables() == set()


def test_readme_configuration_table_lists_nothing_unknown() -> None:
    assert readme_table_variables() - settings_variables() == set()
