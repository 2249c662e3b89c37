"""Issue 15, class 5: numbers past what the artefacts accept are refused as input.

Kubernetes' integer fields are int32 (replicas, failureThreshold, *Seconds,
averageUtilization), Redis' int settings stop at INT_MAX, runc refuses uids and gids
above 2^31 - 1, and a threshold must be a finite number. Each bound lives in the
profile's types, so the message is one line at ``file:line:col`` with exit code 2.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from vitalyst_render.cli import cli
from vitalyst_render.profile import types
from vitalyst_render.profile.types import INT32_MAX

from .test_refused_profiles import at, refused  # noqa: F401  (refused is a fixture)
from .test_types import MODELS

REPO = Path(__file__).resolve().parent.parent


INT32 = f"an integer from 1 to {INT32_MAX} (int32, the limit of Kubernetes, Redis and container uids)"
NUMBER = f"a finite number above 0 and at most {INT32_MAX}, with at most six significant digits"

CLI_CASES = [
    # (overlay, the value as written, field path, what was expected, got)
    ("services:\n  backend:\n    replicas: 3000000000\n", "3000000000", "services.backend.replicas", INT32, "3000000000"),
    ("services:\n  backend:\n    autoscaling: {min_replicas: 3, max_replicas: 2147483648}\n", "2147483648",
     "services.backend.autoscaling.max_replicas", INT32, "2147483648"),
    ("services:\n  backend:\n    health: {retries: 99999999999}\n", "99999999999", "services.backend.health.retries",
     INT32, "99999999999"),
    ("deployment:\n  min_ready_seconds: 2147483648\n", "2147483648", "deployment.min_ready_seconds",
     INT32.replace("from 1", "from 0"), "2147483648"),
    ("services:\n  neo4j:\n    image_user: {uid: 4294967295, gid: 7474}\n", "4294967295", "services.neo4j.image_user.uid",
     INT32, "4294967295"),
    ("services:\n  redis:\n    config: {timeout: 2147483648}\n", "2147483648", "services.redis.config.timeout",
     INT32.replace("from 1", "from 0"), "2147483648"),
    ("monitoring:\n  thresholds:\n    latency_p99_seconds: .inf\n", ".inf", "monitoring.thresholds.latency_p99_seconds",
     NUMBER, "inf"),
    ("services:\n  redis:\n    config: {evictions_alert_rate: .nan}\n", ".nan", "services.redis.config.evictions_alert_rate",
     NUMBER, "nan"),
    ("services:\n  backend:\n    health: {interval: 99999999999h}\n", "99999999999h", "services.backend.health.interval",
     f"a duration of at most {INT32_MAX}s (int32 seconds, about 68 years)", '"99999999999h"'),
    ("services:\n  backend:\n    health: {timeout: 1500ms}\n", "1500ms", "services.backend.health.timeout",
     'a duration in whole seconds (Kubernetes probes count seconds), such as "2s"', '"1500ms"'),
    ("services:\n  backend:\n    health: {interval: 0s}\n", "0s", "services.backend.health.interval",
     "a duration of at least 1s (0 means the default to Docker and Kubernetes)", '"0s"'),
    ("services:\n  backend:\n    resources:\n      limits: {cpu: 9999999999999}\n", "9999999999999",
     "services.backend.resources.limits.cpu", f"a CPU quantity of at most {INT32_MAX} cores", "9999999999999"),
    ("services:\n  backend:\n    resources:\n      limits: {memory: 99999999Ti}\n", "99999999Ti",
     "services.backend.resources.limits.memory", "a memory quantity of at most 8Ei (2^63 - 1 bytes)", '"99999999Ti"'),
    ("monitoring:\n  scrape_interval: 30s1m\n", "30s1m", "monitoring.scrape_interval",
     'a duration with each unit once, largest first (h, m, s, ms) as Prometheus reads it, such as "1h30m"', '"30s1m"'),
]


@pytest.mark.parametrize(("overlay", "needle", "path", "expected", "got"), CLI_CASES, ids=[c[2] + "=" + c[1] for c in CLI_CASES])
def test_a_number_past_what_the_artefact_takes_is_refused_through_the_cli(refused, overlay, needle, path, expected, got):
    text = "extends: prod\n" + overlay
    assert refused(text) == f"child.yaml:{at(text, needle)}: {path}: expected {expected}, got {got}"


def test_a_probe_whose_derived_failure_threshold_passes_int32_is_refused(refused):
    # Each field fits; the startup probe's failureThreshold, start_period / 5s + retries, does not.
    text = "extends: prod\nservices:\n  backend:\n    health: {retries: 2147483647}\n"
    assert refused(text) == (
        f"child.yaml:{at(text, '2147483647')}: services.backend.health.retries: the startup probe's failureThreshold "
        "(start_period ÷ 5s + retries) comes to 2147483655, beyond 2147483647 (int32); lower retries, interval or start_period"
    )


def test_a_probe_whose_grace_period_passes_int32_is_refused(refused):
    # The swarm update monitor waits start_period + interval × retries.
    text = "extends: prod\nservices:\n  backend:\n    health: {interval: 1000s, start_period: 1000s, retries: 3000000}\n"
    assert refused(text) == (
        f"child.yaml:{at(text, '3000000')}: services.backend.health.retries: the grace period start_period + interval × "
        "retries, in seconds comes to 3000001000, beyond 2147483647 (int32); lower retries, interval or start_period"
    )


# -- every numeric field of the model is bounded ----------------------------------------------


def _numeric_schemas(node: Any, where: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if node.get("type") in ("integer", "number"):
            found.append((where, node))
        for key, value in node.items():
            found += _numeric_schemas(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _numeric_schemas(value, f"{where}/{index}")
    return found


@pytest.mark.parametrize("schema_file", ["docs/profile.schema.json", "schemas/profile.schema.json"])
def test_every_number_in_the_profile_schemas_has_an_int32_ceiling(schema_file):
    schema = json.loads((REPO / schema_file).read_text(encoding="utf-8"))
    numbers = _numeric_schemas(schema)
    assert len(numbers) >= 15
    unbounded = [where for where, node in numbers if not node.get("maximum", math.inf) <= INT32_MAX]
    assert not unbounded


def _numeric_fields() -> list[Any]:
    params = []
    for model in MODELS:
        for name, field in model.model_fields.items():
            # The field's own constraints (a type's validators) live in its metadata.
            annotation = Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
            schema = TypeAdapter(annotation).json_schema()
            kinds = {schema.get("type"), *(option.get("type") for option in schema.get("anyOf", []))}
            for kind in {"integer", "number"} & kinds:
                params.append(pytest.param(annotation, kind, id=f"{model.__name__}.{name}"))
    return params


NUMERIC_FIELDS = _numeric_fields()


def test_the_walk_finds_the_numeric_fields():
    ids = {param.id for param in NUMERIC_FIELDS}
    assert {"PythonApp.replicas", "Health.retries", "Autoscaling.cpu_utilization", "ImageUser.uid", "RuntimeUser.gid",
            "Thresholds.latency_p99_seconds", "RedisConfig.evictions_alert_rate", "Deployment.min_ready_seconds",
            "SaveRule.changes", "ServicePort.port"} <= ids


@pytest.mark.parametrize(("annotation", "kind"), NUMERIC_FIELDS)
def test_every_numeric_field_refuses_what_no_artefact_takes(annotation, kind):
    adapter = TypeAdapter(annotation)
    hostile = [2**31, 2**63, 10**30] + ([math.inf, -math.inf, math.nan, 1e300] if kind == "number" else [])
    for value in hostile:
        with pytest.raises(ValidationError):
            adapter.validate_python(value)


def test_the_bounded_model_still_takes_int32_max():
    assert TypeAdapter(types.PositiveInt).validate_python(INT32_MAX) == INT32_MAX
    assert TypeAdapter(types.Count).validate_python(0) == 0
    assert TypeAdapter(types.Uid).validate_python(INT32_MAX) == INT32_MAX


# -- properties ------------------------------------------------------------------------------

BOUNDED_INTS = [("Count", 0, INT32_MAX), ("PositiveInt", 1, INT32_MAX), ("Uid", 10000, INT32_MAX), ("Port", 1, 65535)]


@pytest.mark.parametrize(("name", "low", "high"), BOUNDED_INTS, ids=[b[0] for b in BOUNDED_INTS])
@settings(max_examples=150, deadline=None)
@given(value=st.one_of(st.integers(), st.integers(min_value=2**31 - 5, max_value=2**64)))
def test_an_integer_type_takes_exactly_its_range(name, low, high, value):
    adapter = TypeAdapter(getattr(types, name))
    if low <= value <= high:
        assert adapter.validate_python(value) == value
    else:
        with pytest.raises(ValidationError):
            adapter.validate_python(value)


@settings(max_examples=300, deadline=None)
@given(value=st.floats(allow_nan=True, allow_infinity=True) | st.integers(min_value=-(2**40), max_value=2**40))
def test_a_positive_number_is_finite_within_int32_and_prints_as_itself(value):
    adapter = TypeAdapter(types.PositiveNumber)
    try:
        accepted = adapter.validate_python(value)
    except ValidationError:
        assert not (math.isfinite(value) and 0 < value <= INT32_MAX and float(format(value, "g")) == value)
    else:
        assert math.isfinite(accepted) and 0 < accepted <= INT32_MAX
        # What the rules print ({:g}) is the number the profile gave.
        assert float(format(accepted, "g")) == accepted


_UNITS = st.sampled_from(["h", "m", "s", "ms"])


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.tuples(st.integers(min_value=0, max_value=10**13), _UNITS), min_size=1, max_size=4))
def test_a_duration_is_taken_only_when_every_consumer_can_read_it(parts):
    text = "".join(f"{number}{unit}" for number, unit in parts)
    units = [unit for _, unit in parts]
    ordered = units == sorted(set(units), key=["h", "m", "s", "ms"].index)
    seconds = types.duration_seconds(text)
    try:
        TypeAdapter(types.Duration).validate_python(text)
    except ValidationError:
        assert not ordered or seconds > INT32_MAX
    else:
        assert ordered and seconds <= INT32_MAX
        # Go's time.Duration (Docker, Compose) holds int64 nanoseconds.
        assert seconds * 10**9 < 2**63


@pytest.mark.parametrize("overlay", [
    "monitoring:\n  thresholds:\n    latency_p99_seconds: 0.5\n",
    "services:\n  redis:\n    config: {maxmemory_policy: allkeys-lru, evictions_alert_rate: 0.005}\n",
], ids=["latency-half-a-second", "eviction-rate-below-one-a-minute"])
def test_a_small_threshold_in_bounds_renders_and_its_rule_tests_pass(tmp_path: Path, overlay: str):
    """What the model takes, the checks take: a sub-second p99 is no ratio without its limit
    (VR607), and a rate below one key a minute still fires in its own unit test (VR904)."""
    (tmp_path / "small.yaml").write_text("extends: prod\n" + overlay, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--profile-file", str(tmp_path / "small.yaml"), "--out", str(tmp_path / "out"),
                                      "--strict-tools", "--no-cache"])
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output
