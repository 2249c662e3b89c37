"""Profile loading: the ``extends`` merge, one-line placed errors, names and digests."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from vitalyst_render.errors import Location, ProfileError, RenderError, UsageError
from vitalyst_render.profile import load_profile, profile_names
from vitalyst_render.profile.loader import display_path
from vitalyst_render.profile.merge import deep_merge
from vitalyst_render.profile.models import Profile
from vitalyst_render.roles.python_app import PythonApp as Service

PROFILES = Path(__file__).resolve().parent.parent / "profiles"
DNS_MESSAGE = "expected a DNS-1123 label (lowercase letters, digits and '-', at most 63)"
SERVICE_MESSAGE = "expected a service name: lowercase letters, digits and inner '-', a letter first, at most 45 characters"

# A service body that validates on its own, so that only its name can be wrong.
COMPLETE_SERVICE = """\
    image: {repository: example/x, tag: "1"}
    ports: [{name: http, port: 80}]
    replicas: 1
    resources:
      requests: {cpu: 100m, memory: 64Mi}
      limits: {cpu: 100m, memory: 64Mi}
    health: {kind: tcp, port: 80, interval: 5s, timeout: 1s, retries: 1, start_period: 1s}
"""


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """Run in tmp_path so that messages name files as ``child.yaml``."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path, profiles_dir: Path = PROFILES) -> RenderError:
    with pytest.raises(RenderError) as info:
        load_profile(path, profiles_dir=profiles_dir)
    return info.value


def line_of(path: Path, needle: str) -> int:
    """1-based line of the first line of ``path`` containing ``needle``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def alias_bomb() -> str:
    lines = ["l0: &l0 [" + ", ".join(["lol"] * 9) + "]"]
    for i in range(1, 9):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return "extends: prod\n" + "\n".join(lines) + "\n"


# -- merge -------------------------------------------------------------------------------


def test_merge_maps_deep_merge():
    parent = {"a": {"x": 1, "y": {"p": 1, "q": 2}}, "b": 1}
    child = {"a": {"y": {"q": 3}, "z": 4}}
    assert deep_merge(parent, child) == {"a": {"x": 1, "y": {"p": 1, "q": 3}, "z": 4}, "b": 1}


def test_merge_lists_replace():
    assert deep_merge({"l": [1, 2, 3], "k": 0}, {"l": [9]}) == {"l": [9], "k": 0}


def test_merge_scalars_replace():
    assert deep_merge({"s": "parent"}, {"s": "child"}) == {"s": "child"}
    assert deep_merge({"s": 1}, {"s": None}) == {"s": None}


def test_merge_child_scalar_replaces_parent_map():
    assert deep_merge({"m": {"x": 1}}, {"m": "flat"}) == {"m": "flat"}


def test_merge_child_map_replaces_parent_scalar():
    assert deep_merge({"m": "flat", "n": [1]}, {"m": {"x": 1}, "n": {"y": 2}}) == {"m": {"x": 1}, "n": {"y": 2}}


def test_merge_does_not_mutate_inputs():
    parent = {"a": {"x": 1, "y": {"p": 1}}, "l": [1, 2]}
    child = {"a": {"y": {"q": 2}}, "l": [3]}
    parent_before, child_before = copy.deepcopy(parent), copy.deepcopy(child)
    merged = deep_merge(parent, child)
    assert merged == {"a": {"x": 1, "y": {"p": 1, "q": 2}}, "l": [3]}
    assert parent == parent_before
    assert child == child_before


# -- errors, one line each -----------------------------------------------------------------


def test_wrong_type(workdir):
    path = write(workdir, "child.yaml", "extends: prod\nservices:\n  backend:\n    replicas: many\n")
    assert str(load_error(path)) == 'child.yaml:4:15: services.backend.replicas: expected an integer ≥ 1, got "many"'


def test_wrong_type_error_is_a_profile_error_with_parts(workdir):
    path = write(workdir, "child.yaml", "extends: prod\nservices:\n  backend:\n    replicas: 0\n")
    error = load_error(path)
    assert isinstance(error, ProfileError)
    assert error.location == Location("child.yaml", 4, 15)
    assert error.field == "services.backend.replicas"
    assert error.message == "expected an integer ≥ 1, got 0"


def test_unknown_key_suggests_the_closest_known_key(workdir):
    path = write(workdir, "child.yaml", "extends: prod\nservices:\n  backend:\n    replica: 2\n")
    assert str(load_error(path)) == "child.yaml:4:5: services.backend.replica: unknown key 'replica'; did you mean 'replicas'?"


def test_unknown_key_like_no_known_one_lists_allowed_keys(workdir):
    path = write(workdir, "child.yaml", "extends: prod\nservices:\n  backend:\n    zzz: 2\n")
    allowed = ", ".join(Service.model_fields)
    assert "replicas" in allowed
    assert str(load_error(path)) == f"child.yaml:4:5: services.backend.zzz: unknown key 'zzz'; expected one of: {allowed}"


def test_unknown_top_level_key(workdir):
    path = write(workdir, "child.yaml", "extends: prod\nzzz: {}\n")
    allowed = ", ".join(Profile.model_fields)
    assert str(load_error(path)) == f"child.yaml:2:1: zzz: unknown key 'zzz'; expected one of: {allowed}"
    path = write(workdir, "child.yaml", "extends: prod\nservice: {}\n")
    assert str(load_error(path)) == "child.yaml:2:1: service: unknown key 'service'; did you mean 'services'?"


def test_env_value_int_asks_for_quotes(workdir):
    path = write(workdir, "child.yaml", "extends: prod\nservices:\n  backend:\n    env:\n      PORT: 8000\n")
    assert str(load_error(path)) == (
        'child.yaml:5:13: services.backend.env.PORT: expected a string; write "8000" in quotes — YAML reads 8000 as a number'
    )


def test_unknown_extends_target_placed_at_the_value(workdir):
    path = write(workdir, "child.yaml", "# a comment\nextends: nope\n")
    known = ", ".join(profile_names(PROFILES, include_abstract=True))
    assert "base" in known and "prod" in known
    assert str(load_error(path)) == f"child.yaml:2:10: extends: unknown profile 'nope' (known: {known})"


@pytest.mark.parametrize(("value", "shown"), [("3", "3"), ("Prod", '"Prod"'), ("[prod]", "a list")])
def test_extends_must_be_a_profile_name(workdir, value, shown):
    path = write(workdir, "child.yaml", f"extends: {value}\n")
    assert str(load_error(path)) == f"child.yaml:1:10: extends: expected a profile name, got {shown}"


def test_extends_cycle(workdir):
    folder = workdir / "profiles"
    folder.mkdir()
    write(folder, "a.yaml", "extends: b\n")
    write(folder, "b.yaml", "# b\nextends: a\n")
    error = load_error(folder / "a.yaml", profiles_dir=folder)
    assert isinstance(error, ProfileError)
    assert str(error) == "profiles/b.yaml:2:10: extends: extends cycle: a -> b -> a"


def test_self_extends_is_a_cycle(workdir):
    folder = workdir / "profiles"
    folder.mkdir()
    write(folder, "loop.yaml", "extends: loop\n")
    assert str(load_error(folder / "loop.yaml", profiles_dir=folder)) == (
        "profiles/loop.yaml:1:10: extends: extends cycle: loop -> loop"
    )


@pytest.mark.parametrize(
    ("text", "got"),
    [("- a\n- b\n", "a list"), ("just text\n", '"just text"'), ("42\n", "42")],
)
def test_non_mapping_document(workdir, text, got):
    path = write(workdir, "child.yaml", text)
    assert str(load_error(path)) == f"child.yaml:1:1: expected a mapping at the top of the profile, got {got}"


@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_empty_file(workdir, text):
    path = write(workdir, "child.yaml", text)
    assert str(load_error(path)) == "child.yaml:1:1: expected a mapping at the top of the profile, got nothing (null)"


def test_non_utf8_file(workdir):
    path = write(workdir, "child.yaml", b"extends: prod\n# caf\xe9\n")
    assert str(load_error(path)) == (
        "child.yaml:2:6: file is not valid UTF-8 (byte 0xe9 cannot start a character here)"
    )


def test_alias_bomb(workdir):
    path = write(workdir, "child.yaml", alias_bomb())
    message = str(load_error(path))
    assert re.fullmatch(r"child\.yaml:\d+:\d+: document expands to more than 100000 nodes through aliases", message)


def test_duplicate_key(workdir):
    path = write(workdir, "child.yaml", "extends: prod\nservices:\n  backend:\n    replicas: 2\n    replicas: 3\n")
    assert str(load_error(path)) == "child.yaml:5:5: duplicate key 'replicas'; it is set first at line 4"


def test_non_core_tag(workdir):
    path = write(workdir, "child.yaml", "extends: prod\nproject: !!python/object:os.system {}\n")
    assert str(load_error(path)) == (
        "child.yaml:2:10: YAML tag 'tag:yaml.org,2002:python/object:os.system' is not allowed; "
        "only the core schema's tags are"
    )


def test_unknown_secret_placed_at_the_list_item(workdir):
    path = write(
        workdir, "child.yaml", "extends: prod\nservices:\n  backend:\n    secrets:\n      - neo4j-auth\n      - nope\n"
    )
    assert str(load_error(path)) == (
        "child.yaml:6:9: services.backend.secrets[1]: unknown secret 'nope'; declare it under secrets"
    )


def test_invalid_service_name_with_complete_body(workdir):
    path = write(workdir, "child.yaml", "extends: prod\nservices:\n  Backend_1:\n" + COMPLETE_SERVICE)
    error = load_error(path)
    assert error.field == "services.Backend_1"
    assert error.message == f'{SERVICE_MESSAGE}; got "Backend_1"'
    assert error.location.file == "child.yaml"


def test_invalid_service_name(workdir):
    path = write(workdir, "child.yaml", "extends: prod\nservices:\n  Backend_1:\n    replicas: 1\n")
    assert str(load_error(path)) == f'child.yaml:3:3: services.Backend_1: {SERVICE_MESSAGE}; got "Backend_1"'


def test_invalid_key_is_placed_at_the_key(workdir):
    path = write(workdir, "child.yaml", "extends: prod\nservices:\n  backend:\n    env:\n      1BAD: x\n")
    assert str(load_error(path)) == (
        'child.yaml:5:7: services.backend.env.1BAD: '
        'expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*), got "1BAD"'
    )


def test_dns_label_with_trailing_newline_refused(workdir):
    path = write(workdir, "child.yaml", 'extends: prod\nproject:\n  name: "vitalyst\\n"\n')
    assert str(load_error(path)) == f'child.yaml:3:9: project.name: {DNS_MESSAGE}, got "vitalyst\\n"'


def test_missing_required_field_placed_at_parent_key(workdir):
    path = write(workdir, "child.yaml", "extends: prod\nsecrets:\n  new-one:\n    key: value\n")
    assert str(load_error(path)) == "child.yaml:3:3: secrets.new-one.description: required field is missing"


def test_missing_nested_field_of_a_standalone_profile(workdir):
    # Top-level fields are missing too; they share the document's start, and the
    # first problem in document order is reported.
    path = write(workdir, "child.yaml", "# standalone\nproject:\n  name: x\n")
    assert str(load_error(path)) == "child.yaml:2:1: project.description: required field is missing"


def test_error_in_inherited_value_points_into_the_parent_file(workdir):
    folder = workdir / "profiles"
    folder.mkdir()
    base = (PROFILES / "base.yaml").read_text(encoding="utf-8")
    parent = write(folder, "base.yaml", base.replace("APP_ENV: production", "APP_ENV: 7", 1))
    write(folder, "cluster.yaml", (PROFILES / "cluster.yaml").read_text(encoding="utf-8"))
    child = write(folder, "kid.yaml", (PROFILES / "prod.yaml").read_text(encoding="utf-8"))
    error = load_error(child, profiles_dir=folder)
    line = line_of(parent, "APP_ENV: 7")
    assert str(error) == (
        f'profiles/base.yaml:{line}:16: services.backend.env.APP_ENV: expected a string; write "7" in quotes — '
        "YAML reads 7 as a number"
    )


def test_bad_profile_file_name_is_a_usage_error(workdir):
    path = write(workdir, "Bad_Name.yaml", "extends: prod\n")
    error = load_error(path)
    assert isinstance(error, UsageError)
    assert str(error) == (
        "Bad_Name.yaml: profile file name 'Bad_Name.yaml' must be a DNS-1123 label plus .yaml "
        "(it names the output folder)"
    )


def test_missing_profile_file_is_a_usage_error(workdir):
    error = load_error(workdir / "absent.yaml")
    assert isinstance(error, UsageError)
    assert str(error) == "profile file not found or not a regular file: absent.yaml"


def test_unknown_profile_name_is_a_usage_error():
    with pytest.raises(UsageError) as info:
        load_profile("nope", profiles_dir=PROFILES)
    assert "unknown profile 'nope'" in str(info.value)
    with pytest.raises(UsageError):
        load_profile("Not_A_Label", profiles_dir=PROFILES)


def test_render_error_never_spans_lines():
    error = ProfileError("first\nsecond\r\nthird", Location("f.yaml", 1, 2), "a.b")
    assert str(error) == "f.yaml:1:2: a.b: first\\nsecond\\r\\nthird"


ERROR_CASES = {
    "wrong-type": "extends: prod\nservices:\n  backend:\n    replicas: many\n",
    "unknown-key": "extends: prod\nservices:\n  backend:\n    replica: 2\n",
    "newline-key": 'extends: prod\n"line\\nbreak": 1\n',
    "newline-value": 'extends: prod\nservices:\n  backend:\n    replicas: "a\\nb"\n',
    "newline-extends": 'extends: "a\\nb"\n',
    "env-int": "extends: prod\nservices:\n  backend:\n    env:\n      PORT: 8000\n",
    "unknown-extends": "extends: nope\n",
    "not-mapping": "- a\n",
    "empty": "",
    "non-utf8": b"extends: prod\n\xff\n",
    "bomb": alias_bomb(),
    "duplicate": "a: 1\na: 2\n",
    "secret": "extends: prod\nservices:\n  backend:\n    secrets: [nope]\n",
    "service-name": "extends: prod\nservices:\n  Backend_1:\n    replicas: 1\n",
    "missing": "extends: prod\nsecrets:\n  new-one: {}\n",
    "malformed": "extends: prod\nservices: [\n",
}


@pytest.mark.parametrize("text", ERROR_CASES.values(), ids=ERROR_CASES.keys())
def test_every_error_is_one_line(workdir, text):
    path = write(workdir, "child.yaml", text)
    message = str(load_error(path))
    assert message.startswith("child.yaml:")
    assert "\n" not in message and "\r" not in message


# -- abstract profiles and names -----------------------------------------------------------


def test_abstract_base_refused_by_name():
    with pytest.raises(UsageError) as info:
        load_profile("base", profiles_dir=PROFILES)
    assert str(info.value) == "profile 'base' is abstract: other profiles extend it, but it is not rendered itself"


def test_abstract_base_refused_by_path():
    with pytest.raises(UsageError, match="is abstract"):
        load_profile(PROFILES / "base.yaml", profiles_dir=PROFILES)


def test_abstract_is_not_inherited(workdir):
    text = "extends: base\nenvironment:\n  tier: dev\n  compose_mode: local\n  domain: x\n"
    path = write(workdir, "child.yaml", text)
    assert load_profile(path, profiles_dir=PROFILES).name == "child"


def test_profile_names_exclude_abstract_by_default():
    names = profile_names(PROFILES)
    assert "base" not in names
    assert {"dev", "staging", "prod"} <= set(names)
    assert names == sorted(names)
    assert "base" in profile_names(PROFILES, include_abstract=True)


def test_profile_names_default_folder_is_the_bundled_profiles():
    assert profile_names() == profile_names(PROFILES)


def test_profile_names_skip_non_label_stems_and_list_broken_profiles(tmp_path):
    write(tmp_path, "Bad_Name.yaml", "extends: prod\n")
    write(tmp_path, "broken.yaml", "a: [\n")
    write(tmp_path, "hidden.yaml", "abstract: true\n")
    write(tmp_path, "notes.txt", "x")
    assert profile_names(tmp_path) == ["broken"]
    assert profile_names(tmp_path, include_abstract=True) == ["broken", "hidden"]


@pytest.mark.parametrize("name", ["dev", "staging", "prod"])
def test_bundled_profiles_load(name):
    loaded = load_profile(name, profiles_dir=PROFILES)
    assert loaded.name == name
    assert loaded.profile.environment.tier == name
    parents = ("base",) if name == "dev" else ("cluster", "base")
    assert loaded.chain == tuple((PROFILES / f"{n}.yaml").resolve() for n in (name, *parents))


def test_profile_name_is_the_file_stem(workdir):
    path = write(workdir, "evil.yaml", "extends: prod\n")
    loaded = load_profile(path, profiles_dir=PROFILES)
    assert loaded.name == "evil"
    assert loaded.path == path
    assert loaded.chain[0] == path.resolve()
    assert loaded.profile == load_profile("prod", profiles_dir=PROFILES).profile


def test_child_positions_point_into_child_and_inherited_into_parents(workdir):
    path = write(workdir, "evil.yaml", "extends: prod\nservices:\n  backend:\n    replicas: 5\n")
    loaded = load_profile(path, profiles_dir=PROFILES)
    assert loaded.profile.services["backend"].replicas == 5
    positions = loaded.positions
    assert positions.file == "evil.yaml"
    assert positions.value(("services", "backend", "replicas")) == Location("evil.yaml", 4, 15)
    assert positions.key(("services", "backend", "replicas")) == Location("evil.yaml", 4, 5)

    prod, base = PROFILES / "prod.yaml", PROFILES / "base.yaml"
    domain = positions.value(("environment", "domain"))
    assert (domain.file, domain.line) == (display_path(prod), line_of(prod, "domain:"))
    log_level = positions.value(("services", "backend", "env", "LOG_LEVEL"))
    assert (log_level.file, log_level.line) == (display_path(base), line_of(base, "LOG_LEVEL: info"))


def test_digest_is_stable_and_tracks_values(workdir):
    path = write(workdir, "evil.yaml", "extends: prod\nservices:\n  backend:\n    replicas: 5\n")
    first = load_profile(path, profiles_dir=PROFILES).digest
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", first)
    assert load_profile(path, profiles_dir=PROFILES).digest == first

    path.write_text("extends: prod\nservices:\n  backend:\n    replicas: 6\n", encoding="utf-8")
    assert load_profile(path, profiles_dir=PROFILES).digest != first


def test_digest_ignores_formatting_and_file_name(workdir):
    one = write(workdir, "one.yaml", "extends: prod\nservices:\n  backend:\n    replicas: 5\n")
    two = write(workdir, "two.yaml", "# same values\nextends: prod\nservices: {backend: {replicas: 5}}\n")
    assert load_profile(one, profiles_dir=PROFILES).digest == load_profile(two, profiles_dir=PROFILES).digest


# -- services with kinds: every mistake is one line at its place ---------------------------

SERVICE_BODY = (
    "    replicas: 1\n"
    "    resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: 100m, memory: 128Mi}}\n"
    "    health: {kind: command, command: [\"true\"], interval: 10s, timeout: 1s, retries: 1, start_period: 1s}\n"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("services:\n  worker:\n    kind: go-app\n" + SERVICE_BODY,
         'child.yaml:4:11: services.worker.kind: expected a kind of python-app, node-app, neo4j, redis, image, got "go-app"'),
        ("services:\n  worker:\n" + SERVICE_BODY,
         "child.yaml:3:3: services.worker: a service needs a kind: one of python-app, node-app, neo4j, redis, image"),
        ("services:\n  worker:\n    kind: python-app\n    build: {from: frontend}\n" + SERVICE_BODY,
         "child.yaml:5:19: services.worker.build.from: 'frontend' must be a python-app service with a build of its own"),
        ("services:\n  worker:\n    kind: python-app\n    build: {from: worker}\n" + SERVICE_BODY,
         "child.yaml:5:19: services.worker.build.from: 'worker' is not another service of the stack"),
        ("services:\n  worker:\n    kind: python-app\n    build: {from: backend, base: python}\n" + SERVICE_BODY,
         "child.yaml:5:12: services.worker.build: a build either names `from` (another service's image) or sets base, "
         "context and command, not both"),
        ("services:\n  worker:\n    kind: python-app\n    build: {from: backend}\n"
         "    image: {repository: ghcr.io/vitalyst/worker, tag: \"1\"}\n" + SERVICE_BODY,
         "child.yaml:6:12: services.worker.image: the image comes from 'backend' (build.from); remove image"),
        ("services:\n  api2:\n    kind: python-app\n    build: {from: backend}\n    ports: [{name: http, port: 8000}]\n" + SERVICE_BODY,
         "child.yaml:6:32: services.api2.ports[0].port: the dev compose file publishes port 8000 on 127.0.0.1 for "
         "'backend' already; give this service another port"),
        ("services:\n  redis:\n    exporter: {user: nobody}\n",
         "child.yaml:4:22: services.redis.exporter.user: 'nobody' is not one of this service's users"),
        ("services:\n  redis:\n    metrics: {port: 6379}\n",
         "child.yaml:4:14: services.redis.metrics: Redis is scraped through its exporter; set exporter instead of metrics"),
        ("services:\n  neo4j:\n    memory: {heap: 3GB}\n",
         'child.yaml:4:20: services.neo4j.memory.heap: expected a JVM memory size such as "512m" or "3g", got "3GB"'),
        ("services:\n  neo4j:\n    env: {NEO4J_server_memory_heap_max__size: 1g}\n",
         "child.yaml:4:47: services.neo4j.env.NEO4J_server_memory_heap_max__size: set the heap and page cache under "
         "memory, not in env"),
        ("services:\n  backend:\n    health: {port: 9999}\n",
         "child.yaml:4:20: services.backend.health.port: health.port 9999 is not one of the service's ports"),
        ("services:\n  frontend:\n    expose: {port: web}\n",
         "child.yaml:4:20: services.frontend.expose.port: 'web' is not the name of one of the service's ports"),
        # Services are read in order: the shipped frontend's path is the one found taken.
        ("services:\n  backend:\n    expose: {path: /}\n",
         f"{PROFILES / 'base.yaml'}:127:13: services.frontend.expose.path: path / is already served by 'backend'"),
        ("deployment:\n  idle_release: {tag: \"2\", digests: {redis: \"sha256:" + "a" * 64 + "\"}}\n",
         "child.yaml:3:45: deployment.idle_release.digests.redis: 'redis' is not a service that builds its own image"),
    ],
    ids=["unknown-kind", "no-kind", "build-from-other-kind", "build-from-itself", "build-both-ways", "shared-build-with-image",
         "dev-port-clash", "exporter-user", "redis-metrics", "jvm-size", "neo4j-memory-in-env", "health-port",
         "expose-port", "expose-path-taken", "idle-digest-of-upstream"],
)
def test_service_mistakes_are_placed(workdir, text, expected):
    path = write(workdir, "child.yaml", "extends: dev\n" + text)
    assert str(load_error(path)) == expected
