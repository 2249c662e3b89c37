"""Profiles resolve from the working directory (issue 13, point 7): ``--profile NAME`` reads
``./profiles/NAME.yaml`` when it exists, then the bundled profiles; ``extends`` resolves
in the same order; the listings show the union; ``--profiles-dir`` replaces the search.
Each through the real CLI, in a subprocess whose working directory has its own profiles/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import PROFILES, REPO

MINE = "extends: prod\nservices:\n  backend:\n    replicas: 4\n"
# A dev of the user's own that shadows the bundled dev: the bundled dev with another domain.
MY_DEV = "extends: base\nenvironment:\n  tier: dev\n  compose_mode: local\n  domain: dev.mine.example\n"


def render(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "vitalyst_render", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A user's repository: profiles/mine.yaml (extends the bundled prod) and a dev of its own."""
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "mine.yaml").write_text(MINE, encoding="utf-8")
    (tmp_path / "profiles" / "dev.yaml").write_text(MY_DEV, encoding="utf-8")
    return tmp_path


def shown(name: str, cwd: Path, *args: str) -> dict:
    result = render("show", "--profile", name, "--format", "json", "--origin", *args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_profile_of_the_working_directory_renders_and_extends_a_bundled_one(project):
    result = render("--profile", "mine", "--out", "out", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads((project / "out" / "mine" / "manifest.json").read_text())
    assert manifest["profile"] == "mine"
    document = shown("mine", project)
    assert document["profile"]["services"]["backend"]["replicas"] == 4
    assert document["origins"]["services.backend.replicas"] == "profiles/mine.yaml:4:15"
    assert document["origins"]["environment.domain"].startswith(f"{PROFILES / 'prod.yaml'}:")  # the bundled prod


def test_the_working_directory_wins_a_name_and_extends_finds_it_first(project):
    assert shown("dev", project)["profile"]["environment"]["domain"] == "dev.mine.example"
    (project / "profiles" / "laptop.yaml").write_text("extends: dev\n", encoding="utf-8")
    document = shown("laptop", project)
    assert document["profile"]["environment"]["domain"] == "dev.mine.example"
    assert document["origins"]["environment.domain"] == "profiles/dev.yaml:5:11"
    # The bundled dev's own settings are not what the user's dev inherits.
    assert document["profile"]["services"]["backend"]["replicas"] == 2


def test_listings_are_the_union_working_directory_first(project):
    (project / "profiles" / "shared.yaml").write_text("abstract: true\nextends: base\n", encoding="utf-8")
    listed = render("--list-profiles", cwd=project)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["dev", "mine", "prod", "staging"]  # shared is abstract; dev once, the user's


def test_all_renders_the_union(project):
    result = render("--all", "--out", "out", "--format", "json", cwd=project)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert [p["profile"] for p in json.loads(result.stdout)["profiles"]] == ["dev", "mine", "prod", "staging"]
    assert "dev.mine.example" in (project / "out" / "dev" / "docs" / "RUNBOOK.md").read_text()


def test_profiles_dir_replaces_the_search_path(project, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "solo.yaml").write_text((PROFILES / "dev.yaml").read_text().replace("extends: base", "extends: mybase"), encoding="utf-8")
    (other / "mybase.yaml").write_text((PROFILES / "base.yaml").read_text(), encoding="utf-8")
    listed = render("--list-profiles", "--profiles-dir", str(other), cwd=project)
    assert listed.stdout.split() == ["solo"]
    refused = render("--profile", "mine", "--profiles-dir", str(other), "--out", "out", cwd=project)
    assert refused.returncode == 2
    assert refused.stderr == "render: error: unknown profile 'mine' (known: solo); looked in other\n"
    assert shown("solo", project, "--profiles-dir", str(other))["profile"]["environment"]["tier"] == "dev"


def test_a_shadowing_profile_that_extends_its_own_name_is_told_why(project):
    (project / "profiles" / "prod.yaml").write_text("extends: prod\n", encoding="utf-8")
    result = render("--profile", "prod", "--out", "out", cwd=project)
    assert result.returncode == 2
    assert result.stderr == (
        f"render: error: profiles/prod.yaml:1:10: extends: extends cycle: prod -> prod; profiles/prod.yaml hides "
        f"{PROFILES / 'prod.yaml'}: give it another name\n"
    )


def test_unknown_names_list_the_union_and_where_was_looked(project):
    result = render("--profile", "qa", "--out", "out", cwd=project)
    assert result.returncode == 2
    assert result.stderr == (
        f"render: error: unknown profile 'qa' (known: dev, mine, prod, staging); looked in profiles, then {PROFILES}\n"
    )
    assert not (project / "out").exists()
