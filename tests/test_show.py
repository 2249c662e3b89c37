"""``render show`` (issue 13): the resolved profile as a render uses it, in YAML or JSON,
with origins on request, deterministic, and round-tripping: its output, used as a
profile file, renders byte-identical output."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import vitalyst_render as vr
from vitalyst_render.checks.examples import EXAMPLE_DIGESTS
from vitalyst_render.cli import cli
from vitalyst_render.profile.lock import lock_path, lock_text, read_lock
from vitalyst_render.yamlsource import load_yaml

from .conftest import PROFILES, REPO


def show(*args: str) -> str:
    result = CliRunner().invoke(cli, ["show", *args])
    assert result.exit_code == 0, result.output
    return result.output


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "vitalyst_render", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=300)


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def line_of(path: Path, needle: str) -> int:
    return next(number for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def pinned_profiles(folder: Path) -> Path:
    """A copy of the shipped profiles whose prod lock pins every image (example digests)."""
    folder.mkdir()
    for path in PROFILES.glob("*.yaml"):
        shutil.copy(path, folder / path.name)
    (folder / "prod.lock.yaml").write_text(lock_text(EXAMPLE_DIGESTS), encoding="utf-8")
    return folder


# -- what it prints --------------------------------------------------------------------------


def test_yaml_is_the_resolved_profile():
    text = show("--profile", "prod")
    data, _ = load_yaml(text, "shown")
    assert data == vr.load_profile("prod").profile.model_dump(mode="json", by_alias=True)
    assert data["services"]["backend"]["replicas"] == 3  # prod's own value over base's
    assert data["services"]["backend"]["env"]["APP_ENV"] == "production"  # inherited from base
    assert data["deployment"]["update"]["parallelism"] == 1  # the model's default, filled in
    assert "extends" not in data and "abstract" not in data
    assert text.startswith("# The profile prod as render resolves it")


def test_json_validates_against_the_resolved_profile_schema():
    schema = json.loads((REPO / "docs" / "profile.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    for name in vr.profile_names():
        document = json.loads(show("--profile", name, "--format", "json"))
        assert list(validator.iter_errors(document)) == [], name
        assert document == json.loads(vr.load_profile(name).profile.model_dump_json(by_alias=True))
    # A partial profile is not a resolved one: the schema tells them apart.
    assert list(validator.iter_errors({"services": {"backend": {"replicas": 3}}}))


def test_origins_in_yaml_comments(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "values.yaml").write_text("# mine\nservices:\n  backend:\n    env:\n      LOG_LEVEL: debug\n", encoding="utf-8")
    text = show("--profile", "prod", "--origin", "--values", "values.yaml", "--set", "services.backend.replicas=5")
    prod, base = PROFILES / "prod.yaml", PROFILES / "base.yaml"
    lines = text.splitlines()
    assert f"  domain: vitalyst.example  # {prod}:{line_of(prod, 'domain:')}:11" in lines
    assert f"      APP_ENV: production  # {base}:{line_of(base, 'APP_ENV: production')}:16" in lines
    assert "      LOG_LEVEL: debug  # values.yaml:5:18" in lines
    assert "    replicas: 5  # --set services.backend.replicas=5" in lines
    assert "    ingress_namespace: ingress-nginx  # default" in lines
    # Every value line says where it came from; only mapping and list headers do not.
    for line in lines[1:]:
        assert re.search(r"  # \S", line) or line.rstrip().endswith(":"), line
    # The comments change nothing else.
    assert load_yaml(text, "shown")[0] == load_yaml(show("--profile", "prod", "--values", "values.yaml",
                                                         "--set", "services.backend.replicas=5"), "shown")[0]


def test_origins_in_json_and_of_lock_digests(tmp_path):
    folder = pinned_profiles(tmp_path / "profiles")
    document = json.loads(show("--profile", "prod", "--profiles-dir", str(folder), "--format", "json", "--origin"))
    assert set(document) == {"profile", "origins"}
    origins = document["origins"]
    assert origins["services.backend.replicas"] == f"{folder / 'prod.yaml'}:{line_of(folder / 'prod.yaml', 'replicas: 3')}:15"
    assert origins["services.backend.ports[0].protocol"] == "default"
    lock = read_lock(folder / "prod.lock.yaml")
    assert lock is not None
    digest = document["profile"]["services"]["backend"]["image"]["digest"]
    assert digest == EXAMPLE_DIGESTS["ghcr.io/vitalyst/backend:1.0.0"]
    assert origins["services.backend.image.digest"] == str(lock.at["ghcr.io/vitalyst/backend:1.0.0"])
    assert origins["services.backend.image.digest"].startswith(f"{folder / 'prod.lock.yaml'}:")
    # One origin per value, in document order.
    assert list(origins) == _value_paths(document["profile"], "")


def _value_paths(node: object, path: str) -> list[str]:
    """The field path of every scalar and empty collection, as errors write them."""
    if isinstance(node, dict) and node:
        return [leaf for key, item in node.items() for leaf in _value_paths(item, f"{path}.{key}" if path else key)]
    if isinstance(node, list) and node:
        return [leaf for index, item in enumerate(node) for leaf in _value_paths(item, f"{path}[{index}]")]
    return [path]


def test_output_is_deterministic_across_hash_seeds(tmp_path):
    outputs = {run("show", "--profile", "prod", "--origin", cwd=REPO, env={"PYTHONHASHSEED": seed}).stdout
               for seed in ("0", "4242", "random")}
    assert len(outputs) == 1
    assert outputs.pop().startswith("# The profile prod")


def test_bad_input_is_one_line_exit_2(tmp_path):
    result = run("show", "--profile", "prod", "--set", "services.backend.replicas=many", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == 'render: error: --set services.backend.replicas=many: services.backend.replicas: expected an integer ≥ 1, got "many"\n'
    assert run("show", "--profile", "base", cwd=tmp_path).returncode == 2
    assert "give exactly one of --profile NAME or --profile-file PATH" in run("show", cwd=tmp_path).stderr


# -- the round trip -----------------------------------------------------------------------------


def test_shown_profiles_render_byte_identical_output(tmp_path):
    """Every shipped profile, shown and saved as a profile file, renders what it renders.

    The image lock is an input of its own, not a profile value: ``render pin`` writes it,
    and besides digests it can hold only the reason why images are not pinned yet. Show
    fills in every digest a lock holds (see the pinned test below), so what the copy of
    the lock beside the shown prod still brings is that reason alone: the shipped lock
    pins nothing, and without its reason prod would be held to digests it does not have.
    """
    shown_dir = tmp_path / "shown"
    shown_dir.mkdir()
    names = vr.profile_names()
    for name in names:
        (shown_dir / f"{name}.yaml").write_text(show("--profile", name), encoding="utf-8")
        lock = read_lock(lock_path(PROFILES / f"{name}.yaml"))
        if lock is not None:
            assert lock.images == {} and lock.unpinned is not None  # it contributes the reason only
            shutil.copy(lock.path, lock_path(shown_dir / f"{name}.yaml"))
    real, again = tmp_path / "real", tmp_path / "again"
    real.mkdir()
    again.mkdir()
    first = run("--all", "--out", "out", cwd=real)
    assert first.returncode == 0, first.stdout + first.stderr
    files = [arg for name in names for arg in ("--profile-file", str(shown_dir / f"{name}.yaml"))]
    second = run(*files, "--out", "out", cwd=again)
    assert second.returncode == 0, second.stdout + second.stderr
    for name in names:
        assert tree(again / "out" / name) == tree(real / "out" / name), name
    assert sorted(p.name for p in (again / "out").iterdir()) == sorted(names)


def test_a_pinned_prod_round_trips_without_its_lock(tmp_path):
    """With every digest in the lock, show carries them all: no lock is needed beside the copy."""
    folder = pinned_profiles(tmp_path / "profiles")
    shown = tmp_path / "shown" / "prod.yaml"
    shown.parent.mkdir()
    shown.write_text(show("--profile", "prod", "--profiles-dir", str(folder)), encoding="utf-8")
    assert not lock_path(shown).exists()
    real, again = tmp_path / "real", tmp_path / "again"
    real.mkdir()
    again.mkdir()
    first = run("--profile", "prod", "--profiles-dir", str(folder), "--out", "out", cwd=real)
    assert first.returncode == 0, first.stdout + first.stderr
    second = run("--profile-file", str(shown), "--out", "out", cwd=again)
    assert second.returncode == 0, second.stdout + second.stderr
    assert tree(again / "out" / "prod") == tree(real / "out" / "prod")
    assert "VR608" not in second.stdout  # nothing unpinned, and no lock needed to say so
