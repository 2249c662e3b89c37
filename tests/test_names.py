"""Issue 15, class 6: free-text fields that are really names are typed as the names
their artefacts read: label values, capability names, cron fields, host names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from vitalyst_render.profile.names import CAPABILITIES, Capability, VersionLabel
from vitalyst_render.profile.types import CronSchedule

from .test_refused_profiles import at, refused  # noqa: F401  (a fixture)

LABEL = "a version string that is a Kubernetes label value (at most 63 letters, digits, '-', '_' and '.', " \
    "beginning and ending with a letter or digit)"
CAPABILITY = "ALL or a Linux capability name without CAP_, such as NET_RAW"

SERVICE = "a service name: lowercase letters, digits and inner '-', a letter first, at most 45 characters"
#: A service of the image kind that is complete but for its name.
IMAGE_SERVICE = (
    "services:\n  {name}:\n    kind: image\n"
    "    image: {{repository: ghcr.io/x/y, tag: '1.0'}}\n    replicas: 1\n    ports: [{{name: http, port: 8080}}]\n"
    "    resources: {{requests: {{cpu: 100m, memory: 64Mi}}, limits: {{cpu: 200m, memory: 128Mi}}}}\n"
    "    health: {{kind: tcp, port: 8080, interval: 10s, timeout: 2s, retries: 3, start_period: 10s}}\n"
)

CLI_CASES = [
    # (overlay, where the value starts, the message after the field path)
    ('project:\n  version: "1.0.0 beta+build/7"\n', '"1.0.0', "project.version",
     f'expected {LABEL}; got the characters " +/" in "1.0.0 beta+build/7"'),
    (f'project:\n  version: "{"1" * 64}"\n', '"111', "project.version", f'expected {LABEL}; got 64 characters in "{"1" * 64}"'),
    ('project:\n  version: "v1.0-"\n', '"v1', "project.version",
     f'expected {LABEL}; got a first or last character that is not a letter or digit in "v1.0-"'),
    ('project:\n  version: ""\n', '""', "project.version", f"expected {LABEL}; got an empty string"),
    ("security:\n  drop_capabilities: [ALL, CAP_NET_RAW]\n", "CAP_NET_RAW", "security.drop_capabilities[1]",
     f'expected {CAPABILITY}; got "CAP_NET_RAW" (write NET_RAW, as Kubernetes names it)'),
    ("security:\n  drop_capabilities: [all]\n", "all", "security.drop_capabilities[0]",
     f'expected {CAPABILITY}; got "all" (write ALL, as Kubernetes names it)'),
    ("security:\n  drop_capabilities: [NET_RAWW]\n", "NET_RAWW", "security.drop_capabilities[0]",
     f'expected {CAPABILITY}; got "NET_RAWW", which is no capability of the Linux kernel'),
    ("services:\n  neo4j:\n    backup:\n      schedule: '0 3 * * 7'\n", "'0 3", "services.neo4j.backup.schedule",
     'cron field 5 (day-of-week) must lie in 0-6 or sun-sat, got 7 (Kubernetes counts Sunday as 0, not 7) in "0 3 * * 7"'),
    ("services:\n  redis:\n    backup:\n      schedule: '@daily'\n", "'@daily", "services.redis.backup.schedule",
     'expected a cron schedule of five fields (minute hour day-of-month month day-of-week), got "@daily"; write "0 0 * * *"'),
    ("services:\n  redis:\n    backup:\n      schedule: '*/99999999999999999999 * * * *'\n", "'*/", "services.redis.backup.schedule",
     'cron field 1 (minute): the step /99999999999999999999 is longer than the field\'s 60 values in '
     '"*/99999999999999999999 * * * *"'),
    (IMAGE_SERVICE.format(name="9lives"), "9lives", "services.9lives",
     f'expected {SERVICE}; got "9lives", which begins with "9"; a Kubernetes Service name begins with a letter'),
    (IMAGE_SERVICE.format(name="s" * 46), "s" * 46, "services." + "s" * 46,
     f"expected {SERVICE}; got 46 characters (names made from it, such as <name>-backup, would be longer than "
     "Kubernetes takes)"),
]


@pytest.mark.parametrize(("overlay", "needle", "path", "message"), CLI_CASES, ids=[c[2] + "=" + c[1] for c in CLI_CASES])
def test_a_name_that_its_artefact_would_not_read_is_refused_through_the_cli(refused, overlay, needle, path, message):  # noqa: F811
    text = "extends: prod\n" + overlay
    assert refused(text) == f"child.yaml:{at(text, needle)}: {path}: {message}"


# -- label values -------------------------------------------------------------------------------

#: Kubernetes' own rule for a label value (k8s.io/apimachinery validation.IsValidLabelValue).
K8S_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")


@settings(max_examples=400, deadline=None)
@given(value=st.text(alphabet=st.sampled_from("aZ09-_.+ /:é٣\n"), max_size=70) | st.from_regex(K8S_LABEL_VALUE, fullmatch=True))
def test_a_version_is_taken_exactly_when_kubernetes_takes_it_as_a_label_value(value):
    valid = 0 < len(value) <= 63 and K8S_LABEL_VALUE.fullmatch(value) is not None
    try:
        TypeAdapter(VersionLabel).validate_python(value)
    except ValidationError as error:
        assert not valid
        assert "\n" not in str(error.errors()[0]["msg"]).replace("\\n", "")
    else:
        assert valid


def _labels(node, found):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("labels", "matchLabels") and isinstance(value, dict):
                found.extend(value.values())
            _labels(value, found)
    elif isinstance(node, list):
        for item in node:
            _labels(item, found)
    return found


def test_every_label_value_in_the_committed_manifests_is_one_kubernetes_takes():
    import yaml

    out = Path(__file__).resolve().parent.parent / "out"
    values = []
    for path in sorted(out.glob("*/kubernetes/*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            _labels(document, values)
    assert "1.0.0" in values
    assert [v for v in values if not (isinstance(v, str) and len(v) <= 63 and K8S_LABEL_VALUE.fullmatch(v))] == []


# -- capabilities --------------------------------------------------------------------------------

HEADER = Path("/usr/include/linux/capability.h")


def test_the_capability_names_are_the_kernels():
    if not HEADER.exists():
        pytest.skip("no linux/capability.h here to compare with")
    defined = re.findall(r"#define CAP_([A-Z_]+)\s+([0-9]+)\s*$", HEADER.read_text(encoding="utf-8"), re.MULTILINE)
    assert list(CAPABILITIES) == [name for name, _ in sorted(defined, key=lambda d: int(d[1]))]


@pytest.mark.parametrize("name", ["ALL", "NET_RAW", "CHOWN", "SYS_ADMIN", "CHECKPOINT_RESTORE"])
def test_capability_names_as_kubernetes_writes_them_are_taken(name):
    assert TypeAdapter(Capability).validate_python(name) == name


@pytest.mark.parametrize("name", ["CAP_ALL", "cap_chown", "Net_Raw", "NET RAW", "", "ALL ", "CAP_", 7, None])
def test_anything_else_is_no_capability(name):
    with pytest.raises(ValidationError):
        TypeAdapter(Capability).validate_python(name)


# -- cron ------------------------------------------------------------------------------------------

#: robfig/cron's bounds (spec.go), which Kubernetes' CronJob validation parses schedules with.
ROBFIG = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)]


@settings(max_examples=300, deadline=None)
@given(values=st.tuples(*[st.integers(min_value=0, max_value=70) for _ in ROBFIG]))
def test_a_cron_value_is_taken_exactly_when_robfig_cron_takes_it(values):
    schedule = " ".join(map(str, values))
    valid = all(low <= value <= high for value, (low, high) in zip(values, ROBFIG))
    try:
        TypeAdapter(CronSchedule).validate_python(schedule)
    except ValidationError:
        assert not valid
    else:
        assert valid


@settings(max_examples=200, deadline=None)
@given(digit=st.characters(categories=["Nd", "No"]).filter(lambda c: not c.isascii()), field=st.integers(0, 4))
def test_a_digit_that_is_not_ascii_is_no_cron_value(digit, field):
    fields = ["0", "3", "*", "*", "*"]
    fields[field] = digit
    with pytest.raises(ValidationError):
        TypeAdapter(CronSchedule).validate_python(" ".join(fields))


@pytest.mark.parametrize("schedule", [
    "0 jan * * *", "0 3 mon * *", "jan 3 * * *", "0 3 * * mon-7", "0 3 * */jan *", "0 3 * jan/2 *",
    "0 3 * * 0-7", "@weekly", "@every 1h", "CRON_TZ=UTC 0 3 * * *", "0 3 ? * *", "0 3 * * */8", "0 3 * * ７",
    "0\u00a03 * * *", "0 3 * * 1#2", "0 3 L * *",
])
def test_hostile_cron_schedules_are_refused(schedule):
    with pytest.raises(ValidationError) as info:
        TypeAdapter(CronSchedule).validate_python(schedule)
    assert info.value.errors()[0]["type"] == "vr"


# -- host names ------------------------------------------------------------------------------------


@pytest.mark.parametrize("domain", [
    "kg.example,other.example", "kg.example\t", "kg\x00.example", "kg\u200b.example", "kg\u3002example",
    "https://user:pw@kg.example", "user:pw@kg.example", "bücher.example", "kg.example;", "kg.example%0a",
])
def test_hostile_domains_are_refused(domain):
    from vitalyst_render.profile.models import Environment

    with pytest.raises(ValidationError) as info:
        Environment.model_validate({"tier": "dev", "compose_mode": "local", "domain": domain})
    assert info.value.errors()[0]["msg"].startswith("expected a host name like kg.example")
