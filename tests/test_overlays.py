"""Overlays for one run (issue 13): ``--set path=value`` typed by the model, ``--values``
files layered after the profile, the ``key+`` list directive, and the record of list
items an overlay drops (VR002). Through the real CLI, with the library underneath."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from vitalyst_render.cli import cli
from vitalyst_render.errors import Location, ProfileError, RenderError
from vitalyst_render.profile import load_profile
from vitalyst_render.profile.merge import DroppedItems, Layer, merge_layers
from vitalyst_render.yamlsource import load_yaml

from .conftest import OUT

PREFIX = "render: error: "


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in tmp_path, so that messages name files as ``values.yaml``."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(*args: str) -> str:
    """Run the CLI; it must refuse with exit 2, one line and no output folder."""
    result = CliRunner().invoke(cli, [*args, "--out", "out"])
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith(PREFIX), result.output
    assert not Path("out").exists()
    return lines[0][len(PREFIX):]


def shown(*args: str) -> dict:
    """``render show --format json``: the resolved profile a render would use."""
    result = CliRunner().invoke(cli, ["show", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def at(path: Path, needle: str) -> str:
    """``file:line:col`` of the first ``needle`` in ``path``, as messages show it."""
    text = path.read_text(encoding="utf-8")
    index = text.index(needle)
    line = text.count("\n", 0, index) + 1
    return f"{path.name}:{line}:{index - text.rfind(chr(10), 0, index)}"


# -- --set: typed by the model ------------------------------------------------------------


def test_set_overrides_a_value_in_the_render(workdir):
    result = CliRunner().invoke(cli, ["--profile", "staging", "--set", "services.backend.replicas=5", "--out", "out"])
    assert result.exit_code == 0, result.output
    assert "      replicas: 5\n" in (workdir / "out" / "staging" / "compose" / "docker-compose.yml").read_text()
    manifest = json.loads((workdir / "out" / "staging" / "manifest.json").read_text())
    committed = json.loads((OUT / "staging" / "manifest.json").read_text())
    # The name stays the profile's; the digest says the input differs.
    assert manifest["profile"] == "staging"
    assert manifest["profile_digest"] != committed["profile_digest"]
    assert manifest["profile_digest"] == load_profile("staging", overrides=["services.backend.replicas=5"]).digest


def test_the_drift_fix_repeats_the_overlays_that_made_the_render(workdir):
    values = write(workdir, "ci.yaml", "services:\n  backend:\n    replicas: 3\n")
    overlays = ["--values", values.name, "--set", "services.frontend.replicas=4"]
    checked = CliRunner().invoke(cli, ["--profile", "staging", *overlays, "--out", "out", "--check"])
    assert checked.exit_code == 1
    assert "run `render --profile staging --values ci.yaml --set services.frontend.replicas=4` and commit out/" in checked.output
    assert CliRunner().invoke(cli, ["--profile", "staging", *overlays, "--out", "out"]).exit_code == 0
    assert CliRunner().invoke(cli, ["--profile", "staging", *overlays, "--out", "out", "--check"]).exit_code == 0


def test_set_keeps_text_where_the_model_wants_text():
    profile = shown("--profile", "prod", "--set", "services.backend.env.LOG_LEVEL=1.30",
                    "--set", "environment.kubernetes.version=1.30", "--set", "project.version=2")
    assert profile["services"]["backend"]["env"]["LOG_LEVEL"] == "1.30"
    assert profile["environment"]["kubernetes"]["version"] == "1.30"
    assert profile["project"]["version"] == "2"


def test_set_reads_yaml_where_the_model_wants_numbers_lists_or_mappings():
    profile = shown(
        "--profile", "prod",
        "--set", "services.backend.replicas=4",
        "--set", "services.backend.egress_ports=[443, 8443]",
        "--set", "security.read_only_root_filesystem=true",
        "--set", "services.backend.resources.limits={cpu: '4', memory: 8Gi}",
        "--set", "monitoring.thresholds.cpu_ratio=0.9",
    )
    backend = profile["services"]["backend"]
    assert backend["replicas"] == 4
    assert backend["egress_ports"] == [443, 8443]
    assert backend["resources"]["limits"] == {"cpu": "4", "memory": "8Gi"}
    assert profile["security"]["read_only_root_filesystem"] is True
    assert profile["monitoring"]["thresholds"]["cpu_ratio"] == 0.9


def test_set_appends_one_item_typed_by_the_list():
    profile = shown("--profile", "prod", "--set", "services.backend.secrets+=redis-backup-password",
                    "--set", "services.backend.egress_ports+=8443")
    assert profile["services"]["backend"]["secrets"] == ["neo4j-auth", "redis-app-password", "redis-backup-password"]
    assert profile["services"]["backend"]["egress_ports"] == [443, 8443]


def test_later_set_wins():
    profile = shown("--profile", "prod", "--set", "services.backend.replicas=4", "--set", "services.backend.replicas=6")
    assert profile["services"]["backend"]["replicas"] == 6


def test_bad_set_value_is_the_error_a_file_gives_naming_the_set(workdir):
    assert refused("--profile", "prod", "--set", "services.backend.replicas=many") == (
        '--set services.backend.replicas=many: services.backend.replicas: expected an integer ≥ 1, got "many"'
    )
    assert refused("--profile", "prod", "--set", "services.backend.replica=2") == (
        "--set services.backend.replica=2: services.backend.replica: unknown key 'replica'; did you mean 'replicas'?"
    )
    # A cross-field rule placed at the value the --set changed.
    assert refused("--profile", "prod", "--set", "services.backend.replicas=20") == (
        "--set services.backend.replicas=20: services.backend.replicas: replicas (20) must lie within autoscaling "
        "min_replicas..max_replicas (3..10)"
    )


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("services.backend.replicas", "expected path=value, such as services.backend.replicas=5"),
        ("services..replicas=1", "expected a dotted field path before '=', such as services.backend.env.LOG_LEVEL"),
        ("services.backend.ports[0].port=80",
         "cannot set one item of a list: set the whole list (path=[...]) or append an item (path+=item)"),
        ("monitoring.receivers.0.name=x",
         "monitoring.receivers: a list: --set replaces all of it (monitoring.receivers=[...]) or appends an item "
         "(monitoring.receivers+=item)"),
        ("extends=dev", "extends: --set cannot set extends: it changes values of the profile it is applied to, "
                        "not which profile that is"),
        ("abstract=true", "abstract: --set cannot set abstract: it changes values of the profile it is applied to, "
                          "not which profile that is"),
        ("services.backend.replicas=[1", "invalid YAML: the '[' here is never closed: add ']', or a ',' between its items"),
        ("services.backend.env+=X", "services.backend.env+: appends to a list, but the inherited services.backend.env is a "
                                    "mapping, which merges key by key: write env: without +"),
    ],
    ids=["no-equals", "empty-segment", "list-index", "into-a-list", "extends", "abstract", "bad-yaml", "append-to-mapping"],
)
def test_set_path_mistakes(workdir, item, message):
    assert refused("--profile", "prod", "--set", item) == f"--set {item}: {message}"


# -- --values: overlay files ------------------------------------------------------------------


def test_values_files_layer_in_order_and_set_comes_last(workdir):
    write(workdir, "one.yaml", "services:\n  backend:\n    replicas: 4\n    env: {LOG_LEVEL: debug}\n")
    write(workdir, "two.yaml", "services:\n  backend:\n    replicas: 5\n")
    profile = shown("--profile", "prod", "--values", "one.yaml", "--values", "two.yaml")
    assert profile["services"]["backend"]["replicas"] == 5
    assert profile["services"]["backend"]["env"]["LOG_LEVEL"] == "debug"
    assert profile["services"]["backend"]["env"]["APP_ENV"] == "production"  # maps deep-merge
    profile = shown("--profile", "prod", "--values", "two.yaml", "--set", "services.backend.replicas=6")
    assert profile["services"]["backend"]["replicas"] == 6


def test_values_file_renders(workdir):
    write(workdir, "values.yaml", "services:\n  backend:\n    replicas: 5\n")
    result = CliRunner().invoke(cli, ["--profile", "staging", "--values", "values.yaml", "--out", "out"])
    assert result.exit_code == 0, result.output
    assert "      replicas: 5\n" in (workdir / "out" / "staging" / "compose" / "docker-compose.yml").read_text()


def test_values_file_errors_are_placed_in_it(workdir):
    values = write(workdir, "values.yaml", "# mine\nservices:\n  backend:\n    replicas: many\n")
    assert refused("--profile", "prod", "--values", "values.yaml") == (
        f'{at(values, "many")}: services.backend.replicas: expected an integer ≥ 1, got "many"'
    )
    write(workdir, "values.yaml", "services:\n  backend:\n    replicaz: 2\n")
    assert refused("--profile", "prod", "--values", "values.yaml") == (
        "values.yaml:3:5: services.backend.replicaz: unknown key 'replicaz'; did you mean 'replicas'?"
    )
    write(workdir, "values.yaml", "services: [\n")
    assert refused("--profile", "prod", "--values", "values.yaml").startswith("values.yaml:1:11: invalid YAML: ")
    write(workdir, "values.yaml", "- a\n")
    assert refused("--profile", "prod", "--values", "values.yaml") == (
        "values.yaml:1:1: expected a mapping at the top of the values file, got a list"
    )
    assert refused("--profile", "prod", "--values", "absent.yaml") == "absent.yaml: cannot read values file: No such file or directory"


@pytest.mark.parametrize("key", ["extends: dev", "abstract: true"])
def test_values_file_cannot_say_what_profile_it_is(workdir, key):
    write(workdir, "values.yaml", f"services:\n  backend: {{replicas: 4}}\n{key}\n")
    name = key.split(":")[0]
    assert refused("--profile", "prod", "--values", "values.yaml") == (
        f"values.yaml:3:1: {name}: a --values file cannot set {name}: it changes values of the profile it is applied to, "
        "not which profile that is"
    )


# -- key+: append to the inherited list ------------------------------------------------------


def test_append_in_an_extends_child_and_its_positions(workdir):
    child = write(workdir, "child.yaml", "extends: prod\nservices:\n  backend:\n    secrets+: [redis-backup-password]\n")
    loaded = load_profile(child)
    assert loaded.profile.services["backend"].secrets == ["neo4j-auth", "redis-app-password", "redis-backup-password"]
    assert loaded.positions.value(("services", "backend", "secrets", 2)) == Location("child.yaml", 4, 16)
    assert loaded.positions.value(("services", "backend", "secrets", 0)).file.endswith("base.yaml")
    assert loaded.dropped == ()
    # An appended item that is wrong is placed where it was appended.
    write(workdir, "child.yaml", "extends: prod\nservices:\n  backend:\n    secrets+: [nope]\n")
    assert refused("--profile-file", "child.yaml") == (
        "child.yaml:4:16: services.backend.secrets[2]: unknown secret 'nope'; declare it under secrets"
    )


def test_append_in_a_values_file(workdir):
    write(workdir, "values.yaml", "services:\n  backend:\n    egress_ports+: [8443]\n")
    profile = shown("--profile", "prod", "--values", "values.yaml")
    assert profile["services"]["backend"]["egress_ports"] == [443, 8443]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("    replicas+: [1]\n",
         "child.yaml:4:5: services.backend.replicas+: appends to a list, but the inherited services.backend.replicas is 3: "
         "write replicas: to replace it"),
        ("    secrets: [neo4j-auth]\n    secrets+: [redis-app-password]\n",
         "child.yaml:5:5: services.backend.secrets+: give either secrets (replaces the inherited list) or secrets+ "
         "(appends to it), not both"),
        ("    scratch_paths+: /var/tmp\n",
         "child.yaml:4:21: services.backend.scratch_paths+: expected a list of items to append, got \"/var/tmp\""),
        ("    command+: [--reload]\n",
         "child.yaml:4:5: services.backend.command+: nothing to append to: no inherited services.backend.command; "
         "write command: to set the list"),
    ],
    ids=["not-a-list", "both", "items-not-a-list", "nothing-inherited"],
)
def test_append_refusals(workdir, body, message):
    write(workdir, "child.yaml", "extends: prod\nservices:\n  backend:\n" + body)
    assert refused("--profile-file", "child.yaml") == message


def test_append_in_a_profile_without_extends_has_nothing_to_append_to(workdir):
    write(workdir, "alone.yaml", "project:\n  name: x\nsecurity:\n  drop_capabilities+: [NET_RAW]\n")
    assert refused("--profile-file", "alone.yaml") == (
        "alone.yaml:4:3: security.drop_capabilities+: nothing to append to: no inherited security.drop_capabilities; "
        "write drop_capabilities: to set the list"
    )


# -- dropped list items: recorded by the loader, reported by VR002 -------------------------------


def test_a_values_file_that_drops_list_items_gives_an_info_finding(workdir):
    values = write(workdir, "values.yaml", "services:\n  backend:\n    egress_ports: []\n    secrets: [neo4j-auth, redis-app-password]\n")
    result = CliRunner().invoke(cli, ["--profile", "staging", "--values", "values.yaml", "--out", "out", "--format", "json"])
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.output)["profiles"]
    keys = ("id", "severity", "file", "line", "col", "message", "hint")
    found = [{key: f[key] for key in keys} for f in report["findings"] if f["id"] == "VR002"]
    # One finding: the secrets list keeps every inherited item, in another order.
    assert found == [{
        "id": "VR002", "severity": "info", "file": "values.yaml", "line": 3, "col": 19,
        "message": "services.backend.egress_ports replaces the inherited list and drops 443",
        "hint": "keep them in the list, or write egress_ports+: [...] to append to the inherited egress_ports",
    }]
    assert at(values, "[]") == "values.yaml:3:19"


def test_the_loader_records_drops_a_later_layer_does_not_undo(workdir):
    write(workdir, "child.yaml", "extends: prod\nservices:\n  backend:\n    depends_on: [neo4j]\n")
    loaded = load_profile(Path("child.yaml"), overrides=["services.frontend.depends_on=[]"])
    assert loaded.dropped == (
        DroppedItems(("services", "backend", "depends_on"), ("redis",), Location("child.yaml", 4, 17)),
        DroppedItems(("services", "frontend", "depends_on"), ("backend",), Location("--set services.frontend.depends_on=[]")),
    )
    # A later layer that puts the item back leaves nothing to report.
    restored = load_profile(Path("child.yaml"), values=[write(workdir, "v.yaml", "services:\n  backend:\n    depends_on+: [redis]\n")])
    assert restored.dropped == ()


def test_merge_places_every_path_in_the_layer_that_supplied_it():
    parent_data, parent_positions = load_yaml("a: {x: 1, l: [1, 2]}\nb: [p, q]\n", "parent.yaml")
    child_data, child_positions = load_yaml("a:\n  x: 2\n  l+: [3]\nb: [q]\n", "child.yaml")
    merged = merge_layers(Layer(parent_data, parent_positions), Layer(child_data, child_positions))
    assert merged.data == {"a": {"x": 2, "l": [1, 2, 3]}, "b": ["q"]}
    where = merged.positions.values
    assert where[("a", "x")] == Location("child.yaml", 2, 6)
    assert where[("a", "l", 1)] == Location("parent.yaml", 1, 18)
    assert where[("a", "l", 2)] == Location("child.yaml", 3, 8)
    assert ("b", 1) not in where  # the replaced list's old items leave no positions behind
    assert merged.dropped == (DroppedItems(("b",), ("p",), Location("child.yaml", 4, 4)),)


def test_refusals_are_profile_errors_with_a_field():
    parent = Layer({"l": [1]}, load_yaml("l: [1]\n", "p.yaml")[1])
    with pytest.raises(ProfileError) as info:
        merge_layers(parent, Layer(*load_yaml("l: [2]\nl+: [3]\n", "c.yaml")))
    assert isinstance(info.value, RenderError)
    assert info.value.field == "l+"
    assert info.value.location == Location("c.yaml", 2, 1)
