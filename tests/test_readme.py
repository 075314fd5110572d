"""The README stays true to the code: every setting and every job is in it."""

from pathlib import Path

import pytest

import settings
from jobs.catalog import JOBS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(settings.SETTINGS))
def test_every_setting_is_documented(name):
    assert f"`{name}`" in README


@pytest.mark.parametrize("name", [spec.name for spec in JOBS])
def test_every_job_is_in_the_jobs_table(name):
    assert f"| `{name}` |" in README


def test_the_readme_opens_with_the_demo_and_the_test_command():
    commands = [line.split("#")[0].strip() for line in README.splitlines()[:20]]

    assert "make demo" in commands
    assert "make test" in commands
