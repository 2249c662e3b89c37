"""Issue 15, class 2: values whose rendered form means "no limit", "disabled" or "the tool's
default" are refused where they are written (exit 2, one line at file:line:col with the
field and why), unless the field says what 0 means. Each case renders with exit 0 on the
main branch before the fix: ``maxmemory 0``, a memory limit of 0, a 0s probe interval."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from vitalyst_render.profile import limits

from .test_refused_profiles import at, refused  # noqa: F401  (refused is a fixture)

MAXMEMORY_0 = ("rounds to maxmemory 0, which Redis reads as no limit; "
               "expected a ratio and resources.limits.memory that give at least 1 byte")


def test_a_maxmemory_ratio_that_rounds_to_maxmemory_0_through_the_cli(refused):  # noqa: F811
    text = "extends: prod\nservices:\n  redis:\n    config:\n      maxmemory_ratio: 1.0e-10\n"
    assert refused(text) == (
        f"child.yaml:{at(text, '1.0e-10')}: services.redis.config.maxmemory_ratio: "
        f"maxmemory_ratio 1e-10 of the 1Gi memory limit {MAXMEMORY_0}"
    )


def test_a_memory_limit_too_small_for_any_maxmemory_blames_the_limit(refused):  # noqa: F811
    # 0.7 of one byte is no byte: the inherited ratio is ordinary, the limit is not.
    text = ("extends: prod\nservices:\n  redis:\n    resources:\n"
            "      requests: {cpu: 250m, memory: '1'}\n      limits: {cpu: '1', memory: '1'}\n")
    assert refused(text) == (
        f"child.yaml:{at(text, chr(39) + '1' + chr(39), 3)}: services.redis.resources.limits.memory: "
        f"maxmemory_ratio 0.7 of the 1 memory limit {MAXMEMORY_0}"
    )


@pytest.mark.parametrize("zero", ["'0'", "0Mi", "0"])
def test_a_memory_limit_of_0_through_the_cli(refused, zero):  # noqa: F811
    # The request is 0 too, so that it stays within its limit: main rendered this, exit 0.
    text = ("extends: prod\nservices:\n  backend:\n    resources:\n"
            f"      limits: {{cpu: '2', memory: {zero}}}\n      requests: {{cpu: 500m, memory: {zero}}}\n")
    shown_as = "0" if zero == "0" else f'"{zero.strip(chr(39))}"'
    assert refused(text) == (
        f"child.yaml:{at(text, zero + '}')}: services.backend.resources.limits.memory: expected a memory quantity of "
        f"at least 1 byte (Docker and Compose read a memory limit of 0 as no limit), got {shown_as}"
    )


def test_a_probe_interval_that_rounds_to_0_seconds_through_the_cli(refused):  # noqa: F811
    text = "extends: prod\nservices:\n  backend:\n    health:\n      interval: 500ms\n"
    assert refused(text) == (
        f"child.yaml:{at(text, '500ms')}: services.backend.health.interval: expected a duration in whole seconds "
        '(Kubernetes probes count seconds), such as "2s", got "500ms"'
    )


def test_a_probe_timeout_of_0_through_the_cli(refused):  # noqa: F811
    text = "extends: prod\nservices:\n  backend:\n    health:\n      timeout: 0s\n"
    assert refused(text) == (
        f"child.yaml:{at(text, '0s')}: services.backend.health.timeout: expected a duration of at least 1s "
        '(0 means the default to Docker and Kubernetes), got "0s"'
    )


def test_a_neo4j_heap_of_0_through_the_cli(refused):  # noqa: F811
    text = "extends: prod\nservices:\n  neo4j:\n    memory: {heap: 0g, pagecache: 3g}\n"
    assert refused(text) == (
        f"child.yaml:{at(text, '0g')}: services.neo4j.memory.heap: expected a JVM memory size of at least 1k "
        '(a heap or page cache of 0 holds nothing), got "0g"'
    )


REFUSED = [
    ("MemoryLimit", "0", "Docker and Compose read a memory limit of 0 as no limit"),
    ("MemoryLimit", "0Gi", "Docker and Compose read a memory limit of 0 as no limit"),
    ("VolumeSize", "0Ti", "a volume of 0 bytes holds nothing"),
    ("Neo4jSize", "0m", "a heap or page cache of 0 holds nothing"),
    ("PrometheusInterval", "0m0s", "Prometheus reads an interval of 0 as its default 1m"),
    ("AlertWindow", "0m", "a window of 0 holds no sample, so the alert could never fire"),
    ("LatenessDuration", "500ms", "BackupLate counts whole seconds; under 1s it fires as soon as a backup ends"),
]


@pytest.mark.parametrize(("type_name", "value", "why"), REFUSED, ids=[f"{t}-{v}" for t, v, _ in REFUSED])
def test_zero_is_refused_with_the_reason(type_name, value, why):
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(getattr(limits, type_name)).validate_python(value)
    message = caught.value.errors()[0]["msg"]
    assert message.endswith(f"({why}), got \"{value}\""), message


@pytest.mark.parametrize(("type_name", "value"), [
    ("MemoryLimit", "1"), ("MemoryLimit", "512Mi"), ("VolumeSize", "50Gi"), ("Neo4jSize", "1k"),
    ("PrometheusInterval", "15s"), ("AlertWindow", "15m"), ("LatenessDuration", "26h"),
])
def test_amounts_above_zero_load_as_written(type_name, value):
    assert TypeAdapter(getattr(limits, type_name)).validate_python(value) == value


def test_redis_tcp_keepalive_0_is_refused_and_latency_monitor_0_says_it_is_off():
    from vitalyst_render.roles.redis import RedisConfig

    with pytest.raises(ValidationError) as caught:
        RedisConfig.model_validate({"tcp_keepalive": 0})
    assert caught.value.errors()[0]["msg"] == "expected an integer ≥ 1 (0 turns TCP keepalive off), got 0"
    assert RedisConfig.model_validate({"latency_monitor_threshold": 0}).latency_monitor_threshold == 0
    assert "0 turns the latency monitor off" in RedisConfig.model_fields["latency_monitor_threshold"].description
    assert "(0: never)" in RedisConfig.model_fields["timeout"].description


def test_fields_where_0_is_a_choice_say_what_it_means():
    from vitalyst_render.profile.models import Deployment, Health, Monitoring, UpdatePolicy

    assert "(0s: none)" in Health.model_fields["start_period"].description
    assert "(0s: none)" in UpdatePolicy.model_fields["delay"].description
    assert "(0s: at once)" in Monitoring.model_fields["alert_for"].description
    assert "(0: at once)" in Deployment.model_fields["min_ready_seconds"].description


def test_the_editor_schema_refuses_zero_too():
    import re

    assert not re.fullmatch(limits.MEMORY_ABOVE_ZERO, "0") and not re.fullmatch(limits.MEMORY_ABOVE_ZERO, "000Mi")
    assert re.fullmatch(limits.MEMORY_ABOVE_ZERO, "100Mi") and re.fullmatch(limits.MEMORY_ABOVE_ZERO, "1")
    assert not re.fullmatch(limits.DURATION_ABOVE_ZERO, "0m0s") and re.fullmatch(limits.DURATION_ABOVE_ZERO, "1m0s")
    assert not re.fullmatch(limits.JVM_SIZE_ABOVE_ZERO, "0g") and re.fullmatch(limits.JVM_SIZE_ABOVE_ZERO, "10g")
