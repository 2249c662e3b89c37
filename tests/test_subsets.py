"""--only (write, check or print some top-level folders) and --stdout (one YAML stream)."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
import yaml

import vitalyst_render as vr
from vitalyst_render.artefacts import GROUPS, group_of

from .conftest import OUT
from .test_cli import run_cli, run_process, tree

SOURCE = re.compile(r"^# Source: (\S+)$", re.M)
YAML_GROUPS = ("kubernetes", "compose", "prometheus", "grafana")


@pytest.fixture(scope="module")
def dev():
    return vr.render(vr.load_profile("dev"))


def manifest_files(folder: Path) -> dict[str, str]:
    return json.loads((folder / "manifest.json").read_text())["files"]


def test_groups_are_exactly_the_top_level_folders_the_profiles_render():
    made = {group_of(path) for name in vr.profile_names() for path in vr.render(vr.load_profile(name)).artefacts}
    assert made == set(GROUPS)
    assert {p.name for p in (OUT / "prod").iterdir() if p.is_dir()} == set(GROUPS)


def test_only_writes_its_groups_and_leaves_the_rest_as_it_was(tmp_path):
    folder = tmp_path / "dev"
    assert run_cli("--profile", "dev", "--out", str(tmp_path)).exit_code == 0
    fresh = tree(folder)
    previous = manifest_files(folder)
    compose = folder / "compose" / "docker-compose.yml"
    compose.write_text(compose.read_text() + "# edited by hand\n")
    redis = folder / "redis" / "redis.conf"
    redis.write_text("# stale\n")
    (folder / "docker" / "NOTES.md").write_text("mine\n")
    outside = {p: b for p, b in tree(folder).items() if group_of(p) != "redis" and p != "manifest.json"}

    result = run_cli("--profile", "dev", "--out", str(tmp_path), "--only", "redis")

    assert result.exit_code == 0, result.output
    assert re.search(rf"^dev: 3 files in {re.escape(folder.as_posix())} \(1 written, 0 removed\); --only redis; ", result.output, re.M)
    after = tree(folder)
    assert after["redis/redis.conf"] == fresh["redis/redis.conf"]
    assert {p: b for p, b in after.items() if group_of(p) != "redis" and p != "manifest.json"} == outside
    # The manifest: fresh hashes for the subset, the previous entries for everything else,
    # so the hand edit outside the subset still shows as drift and not as ours.
    assert manifest_files(folder) == previous

    full = run_cli("--profile", "dev", "--out", str(tmp_path), "--check")
    assert full.exit_code == 1
    assert re.findall(r"^drift: \S+ \((\w+)\)$", full.output, re.M) == ["changed"]
    assert f"drift: {folder.as_posix()}/compose/docker-compose.yml (changed)" in full.output
    subset = run_cli("--profile", "dev", "--out", str(tmp_path), "--check", "--only", "redis", "--only", "docker")
    assert subset.exit_code == 0, subset.output
    assert f"dev: {folder.as_posix()} is up to date; --only docker redis; " in subset.output


def test_a_subset_into_an_empty_folder_lists_only_its_files(tmp_path):
    result = run_cli("--profile", "dev", "--out", str(tmp_path), "--only", "compose")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "dev"
    assert sorted(tree(folder)) == ["compose/docker-compose.yml", "manifest.json"]
    assert sorted(manifest_files(folder)) == ["compose/docker-compose.yml"]
    check = run_cli("--profile", "dev", "--out", str(tmp_path), "--check")
    drifted = re.findall(r"^drift: \S+?/dev/(\S+) \((\w+)\)$", check.output, re.M)
    # everything outside compose/ is new, and the manifest lists too little
    assert sorted(drifted) == sorted([(p, "new") for p in dev_files() if group_of(p) != "compose" and p != "manifest.json"] + [("manifest.json", "changed")])


def dev_files() -> list[str]:
    return sorted(tree(OUT / "dev"))


def test_a_subset_removes_its_stale_files_and_keeps_owning_the_rest(tmp_path, dev):
    folder = tmp_path / "dev"
    vr.write(dev, tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    for stale in ("compose/old.yml", "kubernetes/old.yaml"):
        manifest["files"][stale] = "sha256:00"
        (folder / stale).parent.mkdir(exist_ok=True)
        (folder / stale).write_text("from an earlier render\n")
    (folder / "manifest.json").write_text(json.dumps(manifest))

    summary = vr.write(dev, tmp_path, only=["compose"])

    assert summary.removed == ("compose/old.yml",)
    assert not (folder / "compose" / "old.yml").exists()
    assert (folder / "kubernetes" / "old.yaml").read_text() == "from an earlier render\n"
    assert manifest_files(folder)["kubernetes/old.yaml"] == "sha256:00"
    # Still ours: a full render removes it, where a foreign file would stop the render.
    assert vr.write(dev, tmp_path).removed == ("kubernetes/old.yaml",)
    assert tree(folder) == dev.files


def test_a_subset_refuses_to_overwrite_a_foreign_file_in_it_but_not_outside(tmp_path, dev):
    folder = tmp_path / "dev" / "compose"
    folder.mkdir(parents=True)
    (folder / "docker-compose.yml").write_text("hand-written\n")
    with pytest.raises(vr.ArtefactError, match="did not make it"):
        vr.write(dev, tmp_path, only=["compose"])
    summary = vr.write(dev, tmp_path, only=["docker"])
    assert "docker/backend/Dockerfile" in summary.written
    assert (folder / "docker-compose.yml").read_text() == "hand-written\n"


def test_a_subset_write_is_one_atomic_swap(tmp_path, dev, monkeypatch):
    from vitalyst_render import output

    vr.write(dev, tmp_path)
    inode = (tmp_path / "dev").stat().st_ino
    swaps = []
    real = output._swap_in
    monkeypatch.setattr(output, "_swap_in", lambda staging, folder: (swaps.append(sorted(tree(staging))), real(staging, folder)))
    changed = dataclasses.replace(dev, files={**dev.files, "redis/redis.conf": b"maxmemory 1mb\n"})

    vr.write(changed, tmp_path, only=["redis"])

    assert swaps == [sorted(dev.files)]  # the staged tree is the whole folder, the rest carried over
    assert (tmp_path / "dev").stat().st_ino != inode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dev"]


def test_only_takes_group_names_only(tmp_path):
    result = run_cli("--profile", "dev", "--out", str(tmp_path), "--only", "helm")
    assert result.exit_code == 2
    assert "'helm' is not one of" in result.output
    with pytest.raises(vr.UsageError, match="top-level folder"):
        vr.diff(vr.render(vr.load_profile("dev")), tmp_path, only=["redis/redis.conf"])


def stream_sources(stream: str) -> list[tuple[str, str]]:
    """(source path, document text) for every document of a --stdout stream."""
    documents = stream.split("---\n")
    assert documents[0] == ""
    found = []
    for document in documents[1:]:
        first, rest = document.split("\n", 1)
        assert SOURCE.fullmatch(first), first
        found.append((SOURCE.fullmatch(first).group(1), rest))
    return found


def test_stdout_streams_the_selected_files_exactly_and_writes_nothing(tmp_path):
    only = [arg for group in YAML_GROUPS for arg in ("--only", group)]
    result = run_process("--profile", "prod", *only, "--stdout", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []
    streamed = list(yaml.safe_load_all(result.stdout))  # one stream that a YAML reader takes whole
    documents: dict[str, list[object]] = {}
    for source, text in stream_sources(result.stdout):
        documents.setdefault(source, []).extend(yaml.safe_load_all(text))
    expected = {f"out/prod/{p}" for p in tree(OUT / "prod") if group_of(p) in YAML_GROUPS}
    assert set(documents) == expected
    summary = f"prod: {len(expected)} files printed to stdout, nothing written; --only kubernetes compose prometheus grafana; "
    assert summary in result.stderr
    for source, docs in documents.items():
        on_disk = [d for d in yaml.safe_load_all((OUT.parent / source).read_text()) if d is not None]
        assert docs == on_disk, source
    assert streamed == [d for docs in documents.values() for d in docs]


def test_stdout_is_what_kubectl_apply_takes(tmp_path):
    result = run_process("--profile", "prod", "--only", "kubernetes", "--stdout", "--format", "json", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stderr)["exit_code"] == 0  # the report, whole, on stderr
    objects = list(yaml.safe_load_all(result.stdout))
    assert len(objects) > 20
    for obj in objects:
        assert isinstance(obj, dict) and obj.get("apiVersion") and obj.get("kind") and obj["metadata"]["name"], obj
    # A fresh cluster takes it in one apply: the namespace comes before what lives in it.
    namespace = objects[0]
    assert namespace["kind"] == "Namespace"
    assert {o["metadata"].get("namespace") for o in objects[1:]} == {namespace["metadata"]["name"]}
    # each file's documents together, the files in render order
    files = [source for index, (source, _) in enumerate(stream_sources(result.stdout)) if index == 0 or stream_sources(result.stdout)[index - 1][0] != source]
    rendering = vr.render(vr.load_profile("prod"))
    assert files == [f"out/prod/{p}" for p in rendering.artefacts if group_of(p) == "kubernetes"]
    assert files[0] == "out/prod/kubernetes/namespace.yaml"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "prod", "--stdout"], "out/prod/docker/backend/Dockerfile is not YAML; choose YAML groups with --only (kubernetes, compose, prometheus, grafana)"),
        (["--profile", "prod", "--only", "kubernetes", "--only", "docs", "--stdout"], "out/prod/docs/RUNBOOK.md is not YAML"),
        (["--profile", "dev", "--only", "kubernetes", "--stdout"], "profile 'dev' renders nothing in kubernetes/: nothing to print"),
        (["--profile", "dev", "--profile", "prod", "--only", "compose", "--stdout"], "--stdout prints one profile, got 2: dev, prod"),
        (["--all", "--only", "compose", "--stdout"], "--stdout prints one profile, got 3"),
        (["--profile", "dev", "--only", "compose", "--stdout", "--check"], "--stdout prints the render and --check compares it with OUT"),
    ],
)
def test_stdout_refusals_are_usage_errors_with_an_empty_stdout(tmp_path, args, message):
    result = run_process(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_bad_input_under_stdout_puts_the_machine_report_on_stderr_too(tmp_path):
    result = run_process("--profile", "nope", "--only", "kubernetes", "--stdout", "--format", "json", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    report = json.loads(result.stderr[result.stderr.index("{"):])
    assert report["exit_code"] == 2 and "unknown profile 'nope'" in report["errors"][0]["message"]


def test_the_fix_for_subset_drift_is_the_same_subset_written(tmp_path):
    assert run_cli("--profile", "dev", "--out", str(tmp_path)).exit_code == 0
    compose = tmp_path / "dev" / "compose" / "docker-compose.yml"
    compose.write_text(compose.read_text() + "# edited by hand\n")
    checked = run_process("--profile", "dev", "--out", str(tmp_path), "--only", "compose", "--check", cwd=tmp_path)
    assert checked.returncode == 1
    fix = re.search(r"run `(render [^`]*)`", checked.stdout)
    assert fix is not None and fix.group(1).endswith("--only compose"), checked.stdout
    assert run_process(*fix.group(1).split()[1:], cwd=tmp_path).returncode == 0
    assert run_process("--profile", "dev", "--out", str(tmp_path), "--check", cwd=tmp_path).returncode == 0


def test_stdout_prints_nothing_when_the_render_has_error_findings(tmp_path, profile_file):
    path = profile_file("extends: prod\nservices:\n  backend:\n    env:\n      DB_PASSWORD: hunter2\n", name="leaky")
    result = run_process("--profile-file", str(path), "--only", "kubernetes", "--stdout", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "error VR606 services.backend.env.DB_PASSWORD holds a credential literal" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["leaky.yaml"]


def test_documents_split_at_bare_markers_only():
    from vitalyst_render.output import _documents

    text = "# head\n---\na: 1\n# about b\n---\nb: |\n  ---x\n--- \nc: [1]\n---\n# trailing\n"
    assert _documents(text) == ["# head\na: 1\n# about b\n", "b: |\n  ---x\n", "c: [1]\n# trailing\n"]
    assert _documents("# nothing but a comment\n") == []


def test_readme_and_docs_name_every_group():
    from .conftest import REPO

    readme_row = next(line for line in (REPO / "README.md").read_text().splitlines() if line.startswith("| `--only GROUP` |"))
    subsets = (REPO / "docs" / "subsets.md").read_text()
    for group in GROUPS:
        assert f"`{group}`" in readme_row and f"`{group}`" in subsets, group
