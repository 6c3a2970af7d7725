"""Defect 19: the README documents what a newcomer needs, and its numbers match the code."""

from __future__ import annotations

import re
import tomllib
from dataclasses import fields
from pathlib import Path

from gatepass.core.settings import ServerLimits

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_defect_19_readme_lists_every_extra_and_says_it_is_not_on_pypi() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    table = README.split("## Install", 1)[1].split("\n## ", 1)[0]
    for extra in extras:
        assert f"| `{extra}` |" in table, extra
    assert "not published on PyPI" in table and "pip install -e" in table and "scripts/setup" in table


def test_defect_19_readme_limit_defaults_match_the_code() -> None:
    defaults = ServerLimits()
    for field in fields(ServerLimits):
        row = re.search(rf"^\| `{field.name}` \|.*\| `([0-9.]+)` \|$", README, re.M)
        assert row, field.name
        assert float(row.group(1)) == float(getattr(defaults, field.name)), field.name


def test_defect_19_readme_has_the_newcomer_sections() -> None:
    for heading in ("### Calling it without a browser", "## Troubleshooting", "## Status and licence"):
        assert heading in README, heading
    for text in ("st-auth-mode", "Authorization: Bearer", "anti-csrf", "Apache-2.0", "npm registry", "CDI", "FDI"):
        assert text in README, text
    assert "https://supertokens.com/docs/session/using-with-faunadb" in README
