"""Profiles that must be refused (issue 12, items 7-12): each through the real CLI,
exit code 2, and one line naming ``file:line:col``, the field and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from vitalyst_render.cli import cli

PREFIX = "render: error: "


@pytest.fixture
def refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Render ``child.yaml`` (the given text) from tmp_path; return the one error line."""
    monkeypatch.chdir(tmp_path)

    def run(text: str) -> str:
        (tmp_path / "child.yaml").write_text(text, encoding="utf-8")
        result = CliRunner().invoke(cli, ["--profile-file", "child.yaml", "--out", str(tmp_path / "out")])
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        lines = result.output.splitlines()
        assert len(lines) == 1, result.output
        assert lines[0].startswith(PREFIX), lines[0]
        assert not (tmp_path / "out").exists()
        return lines[0][len(PREFIX):]

    return run


def at(text: str, needle: str, occurrence: int = 1) -> str:
    """``line:col`` of the ``occurrence``-th ``needle`` in ``text`` (1-based)."""
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"{line}:{col}"


# -- 7. requests larger than limits ------------------------------------------------------------


def test_memory_request_above_its_limit(refused):
    text = "extends: prod\nservices:\n  backend:\n    resources:\n      requests: {cpu: 500m, memory: 8Gi}\n"
    assert refused(text) == (
        f"child.yaml:{at(text, '8Gi')}: services.backend.resources.requests.memory: "
        "the request 8Gi exceeds the limit 4Gi (limits.memory); a request may be at most its limit"
    )


def test_cpu_request_above_its_limit_compares_quantities_not_spellings(refused):
    # 2500m is more than "2" (2000m) although "2500m" < "2" as text.
    text = "extends: prod\nservices:\n  backend:\n    resources:\n      requests: {cpu: 2500m, memory: 1Gi}\n"
    assert refused(text) == (
        f"child.yaml:{at(text, '2500m')}: services.backend.resources.requests.cpu: "
        "the request 2500m exceeds the limit 2 (limits.cpu); a request may be at most its limit"
    )


def test_binary_and_decimal_memory_units_compare_by_bytes(refused):
    # 1Gi is 1073741824 bytes, more than 1G (10^9).
    text = (
        "extends: prod\nservices:\n  redis:\n    resources:\n"
        "      requests: {cpu: 250m, memory: 1Gi}\n      limits: {cpu: '1', memory: 1G}\n"
    )
    assert refused(text) == (
        f"child.yaml:{at(text, '1Gi')}: services.redis.resources.requests.memory: "
        "the request 1Gi exceeds the limit 1G (limits.memory); a request may be at most its limit"
    )


def test_equal_requests_and_limits_load():
    from vitalyst_render.profile.models import Resources

    amounts = {"cpu": "1", "memory": "1Gi"}
    assert Resources.model_validate({"requests": {"cpu": "1000m", "memory": "1024Mi"}, "limits": amounts})


# -- 8. cron schedules ---------------------------------------------------------------------------


def test_cron_minute_out_of_range_through_the_cli(refused):
    text = "extends: prod\nservices:\n  neo4j:\n    backup:\n      schedule: '61 2 * * *'\n"
    assert refused(text) == (
        f"child.yaml:{at(text, chr(39) + '61')}: services.neo4j.backup.schedule: "
        'cron field 1 (minute) must lie in 0-59, got 61 in "61 2 * * *"'
    )


def test_cron_field_count_through_the_cli(refused):
    text = "extends: prod\nservices:\n  redis:\n    backup:\n      schedule: '45 * * *'\n"
    assert refused(text) == (
        f"child.yaml:{at(text, chr(39) + '45')}: services.redis.backup.schedule: "
        'expected a cron schedule of five fields (minute hour day-of-month month day-of-week), got 4 in "45 * * *"'
    )


CRON_REFUSED = [
    ("0 24 * * *", 'cron field 2 (hour) must lie in 0-23, got 24 in "0 24 * * *"'),
    ("0 3 0 * *", 'cron field 3 (day-of-month) must lie in 1-31, got 0 in "0 3 0 * *"'),
    ("0 3 32 * *", 'cron field 3 (day-of-month) must lie in 1-31, got 32 in "0 3 32 * *"'),
    ("0 3 * 13 *", 'cron field 4 (month) must lie in 1-12 or jan-dec, got 13 in "0 3 * 13 *"'),
    ("0 3 * * 8", 'cron field 5 (day-of-week) must lie in 0-6 or sun-sat, got 8 in "0 3 * * 8"'),
    ("0 3 * * 1-9", 'cron field 5 (day-of-week) must lie in 0-6 or sun-sat, got 9 in "0 3 * * 1-9"'),
    ("0 3 * foo *", 'cron field 4 (month) must lie in 1-12 or jan-dec, got "foo" in "0 3 * foo *"'),
    ("0 3 * * mon-funday", 'cron field 5 (day-of-week) must lie in 0-6 or sun-sat, got "funday" in "0 3 * * mon-funday"'),
    ("0 mon * * *", 'cron field 2 (hour) must lie in 0-23, got "mon" in "0 mon * * *"'),
    ("5-3 * * * *", 'cron field 1 (minute): the range 5-3 runs backwards; write low-high within 0-59 in "5-3 * * * *"'),
    ("*/0 * * * *", 'cron field 1 (minute): the step /0 must be at least 1 in "*/0 * * * *"'),
    ("1-5/0 * * * *", 'cron field 1 (minute): the step /0 must be at least 1 in "1-5/0 * * * *"'),
    ("0 */x * * *", 'cron field 2 (hour): the step /x must be a whole number in "0 */x * * *"'),
    ("1- * * * *", 'cron field 1 (minute): "1-" is not a value, a range a-b, */n or a-b/n (allowed 0-59) in "1- * * * *"'),
    ("1,,2 * * * *", 'cron field 1 (minute): "" is not a value, a range a-b, */n or a-b/n (allowed 0-59) in "1,,2 * * * *"'),
    ("5/2 * * * *", 'cron field 1 (minute): "5/2" is not a value, a range a-b, */n or a-b/n (allowed 0-59) in "5/2 * * * *"'),
    ("**/2 * * * *", 'cron field 1 (minute): "**/2" is not a value, a range a-b, */n or a-b/n (allowed 0-59) in "**/2 * * * *"'),
    ("0 3 * * * *", 'expected a cron schedule of five fields (minute hour day-of-month month day-of-week), got 6 in "0 3 * * * *"'),
    ("", 'expected a cron schedule of five fields (minute hour day-of-month month day-of-week), got 0 in ""'),
    ("0 3 * * *\n", 'expected a cron schedule of five fields separated by spaces, on one line, got "0 3 * * *\\n"'),
    ("0\t3 * * *", 'expected a cron schedule of five fields separated by spaces, on one line, got "0\\t3 * * *"'),
    (300, 'expected a cron schedule of five fields such as "0 3 * * *", got 300'),
]
CRON_ACCEPTED = [
    "0 3 * * *", "15 2 * * *", "45 * * * *", "*/15 0-23/2 1,15 jan-jun mon-fri", "0 3 * * 0", "0 3 * * SUN",
    "0 0 31 DEC sat", "0-59 0-23 1-31 1-12 0-6", "5,10-20/5,*/30 * * * *", "0  3 * * *",
]


@pytest.mark.parametrize(("schedule", "message"), CRON_REFUSED, ids=[repr(s) for s, _ in CRON_REFUSED])
def test_cron_schedule_refused_with_the_field_and_its_range(schedule, message):
    from pydantic import TypeAdapter, ValidationError

    from vitalyst_render.profile.types import CronSchedule

    with pytest.raises(ValidationError) as info:
        TypeAdapter(CronSchedule).validate_python(schedule)
    (error,) = info.value.errors()
    assert error["type"] == "vr"
    assert error["msg"] == message


@pytest.mark.parametrize("schedule", CRON_ACCEPTED)
def test_cron_schedule_accepted(schedule):
    from pydantic import TypeAdapter

    from vitalyst_render.profile.types import CronSchedule

    assert TypeAdapter(CronSchedule).validate_python(schedule) == schedule


# -- 9. environment.domain is a host name ----------------------------------------------------------


def test_domain_given_as_a_url_through_the_cli(refused):
    text = "extends: prod\nenvironment:\n  domain: https://kg.example/\n"
    assert refused(text) == (
        f"child.yaml:{at(text, 'https')}: environment.domain: expected a host name like kg.example, without "
        'scheme, path or port; got a URL "https://kg.example/" (write kg.example)'
    )


DOMAIN_REFUSED = [
    ("http://kg.example", 'got a URL "http://kg.example" (write kg.example)'),
    ("kg.example/api", 'got a path in "kg.example/api" (write kg.example)'),
    ("kg.example:8443", 'got a port in "kg.example:8443" (write kg.example)'),
    ("admin@kg.example", 'got a user name in "admin@kg.example" (write kg.example)'),
    ("kg example", 'got a space in "kg example"'),
    (" kg.example", 'got a space in " kg.example"'),
    ("", "got an empty string"),
    ("kg.example.", 'got a trailing dot in "kg.example." (write kg.example)'),
    (".kg.example", 'got an empty label in ".kg.example"'),
    ("kg..example", 'got an empty label in "kg..example"'),
    ("KG.Example", 'got capital letters in "KG.Example" (write kg.example)'),
    ("kg_1.example", 'got the label "kg_1", which is not lowercase letters, digits and inner hyphens'),
    ("-kg.example", 'got the label "-kg", which is not lowercase letters, digits and inner hyphens'),
    ("kg-.example", 'got the label "kg-", which is not lowercase letters, digits and inner hyphens'),
    ("*.kg.example", 'got the label "*", which is not lowercase letters, digits and inner hyphens'),
    ("a" * 64 + ".example", f'got the label "{"a" * 64}", which is longer than 63 characters'),
    (".".join(["a" * 63] * 4), "got a name of 255 characters; at most 253"),
    ("10.0.0.1", 'got the IP address "10.0.0.1"; an Ingress host must be a DNS name'),
    ("kg.example\n", 'got a line break in "kg.example\\n"'),
    (["kg.example"], "got a list"),
]
DOMAIN_ACCEPTED = ["kg.example", "localhost", "vitalyst.example", "staging.vitalyst.example", "a", "x-1.b2.example",
                   "a" * 63 + ".example", ".".join(["a" * 63] * 3 + ["a" * 61])]


@pytest.mark.parametrize(("domain", "found"), DOMAIN_REFUSED, ids=[repr(d)[:40] for d, _ in DOMAIN_REFUSED])
def test_domain_refused_saying_what_was_found(domain, found):
    from pydantic import ValidationError

    from vitalyst_render.profile.models import Environment

    with pytest.raises(ValidationError) as info:
        Environment.model_validate({"tier": "dev", "compose_mode": "local", "domain": domain})
    (error,) = info.value.errors()
    assert error["loc"] == ("domain",)
    assert error["msg"] == f"expected a host name like kg.example, without scheme, path or port; {found}"


@pytest.mark.parametrize("domain", DOMAIN_ACCEPTED, ids=[d[:40] for d in DOMAIN_ACCEPTED])
def test_domain_accepted(domain):
    from vitalyst_render.profile.models import Environment

    assert Environment.model_validate({"tier": "dev", "compose_mode": "local", "domain": domain}).domain == domain


def test_domain_ipv6_address_is_named_as_one():
    from vitalyst_render.profile.types import _host_problem

    assert _host_problem("::1") == 'got the IP address "::1"; an Ingress host must be a DNS name'


# -- 10. a *_FILE variable names a secret the service mounts ------------------------------------------

BASE = Path(__file__).resolve().parent.parent / "profiles" / "base.yaml"


def test_dropping_a_services_secrets_leaves_no_dangling_file_variable(refused):
    base = BASE.read_text(encoding="utf-8")
    # neo4j's own NEO4J_AUTH_FILE, the second one in base.yaml (the backend's comes first).
    where = at(base, "/run/secrets/neo4j-auth", 2)
    assert refused("extends: prod\nservices:\n  neo4j:\n    secrets: []\n") == (
        f"{BASE}:{where}: services.neo4j.env.NEO4J_AUTH_FILE: /run/secrets/neo4j-auth is not mounted into "
        "this service; add 'neo4j-auth' to services.neo4j.secrets"
    )


def test_file_variable_naming_another_services_secret(refused):
    # redis-acl is declared and mounted, but only into redis (by its role).
    text = "extends: prod\nservices:\n  backend:\n    env:\n      ACL_FILE: /run/secrets/redis-acl\n"
    assert refused(text) == (
        f"child.yaml:{at(text, '/run')}: services.backend.env.ACL_FILE: /run/secrets/redis-acl is not mounted "
        "into this service; add 'redis-acl' to services.backend.secrets"
    )


def test_file_variable_naming_an_undeclared_secret(refused):
    text = "extends: prod\nservices:\n  backend:\n    env:\n      STRIPE_KEY_FILE: /run/secrets/stripe-key\n"
    assert refused(text) == (
        f"child.yaml:{at(text, '/run')}: services.backend.env.STRIPE_KEY_FILE: /run/secrets/stripe-key names "
        "no secret; declare 'stripe-key' under secrets and add it to services.backend.secrets"
    )


def test_file_variable_below_a_secret_file(refused):
    text = "extends: prod\nservices:\n  backend:\n    env:\n      NEO4J_AUTH_FILE: /run/secrets/neo4j-auth/password\n"
    assert refused(text) == (
        f"child.yaml:{at(text, '/run')}: services.backend.env.NEO4J_AUTH_FILE: each secret is mounted as the file "
        "/run/secrets/<name>; expected /run/secrets/neo4j-auth"
    )


def test_file_variable_naming_a_secret_the_role_mounts(tmp_path):
    from vitalyst_render.profile import load_profile

    # The redis role mounts its acl_secret besides the profile's secrets list.
    path = tmp_path / "child.yaml"
    path.write_text("extends: prod\nservices:\n  redis:\n    env:\n      ACL_FILE: /run/secrets/redis-acl\n", encoding="utf-8")
    assert load_profile(path).profile.services["redis"].env["ACL_FILE"] == "/run/secrets/redis-acl"


def test_file_variable_naming_the_secrets_folder_itself(refused):
    text = "extends: prod\nservices:\n  backend:\n    env:\n      NEO4J_AUTH_FILE: /run/secrets/\n"
    assert refused(text) == (
        f"child.yaml:{at(text, '/run')}: services.backend.env.NEO4J_AUTH_FILE: each secret is mounted as the file "
        "/run/secrets/<name>"
    )


# -- 11. YAML syntax errors in plain words ------------------------------------------------------------

YAML_MISTAKES = [
    pytest.param(
        "extends: prod\nservices:\n  backend:\n    replicas: 2\n   image: x\n", "5:4",
        "bad indentation: this line is indented by 3 spaces, which lines up with no key above it "
        "(those are indented by 0, 2 or 4)", id="indented-less"),
    pytest.param(
        "extends: prod\nservices:\n  backend:\n    replicas: 2\n      ports: []\n", "5:7",
        "bad indentation: this line is indented more than line 4 above it, so it reads as part of that line's value; "
        "line up the keys of one mapping", id="indented-more"),
    pytest.param("extends: prod\nservices:\n\tbackend:\n    replicas: 2\n", "3:1",
                 "a tab character indents this line; YAML indents with spaces only", id="tab"),
    pytest.param('extends: prod\nproject:\n  name: "vitalyst\n', "3:9",
                 'unclosed quote: the " here is never closed', id="unclosed-double-quote"),
    pytest.param('extends: prod\nproject:\n  name: "vitalyst\n  version: "2"\n', "3:9",
                 'unclosed quote: the " here is not closed on its line, so the string runs on to line 4',
                 id="unclosed-quote-closed-later"),
    pytest.param("extends: prod\nproject:\n  description: 'it is\n", "3:16",
                 "unclosed quote: the ' here is never closed", id="unclosed-single-quote"),
    pytest.param('extends: prod\nproject:\n  name vitalyst\n  version: "2"\n', "3:3",
                 "missing ':' after the key on this line (write key: value)", id="missing-colon-first"),
    pytest.param('extends: prod\nproject:\n  version: "2"\n  name vitalyst\n', "4:3",
                 "missing ':' after the key on this line (write key: value)", id="missing-colon-last"),
    pytest.param("extends: prod\nproject:\n  description: Vitalyst: the graph\n", "3:24",
                 "a value that contains ': ' must be in quotes", id="colon-in-value"),
    pytest.param("extends: prod\nservices:\n  backend:\n    replicas: 2\n    - ports\n", "5:5",
                 "a list item where a key was expected: the mapping at line 4 holds keys, not '- ' items", id="dash"),
    pytest.param("extends: prod\nservices:\n  backend:\n    secrets: [neo4j-auth\n    replicas: 2\n", "4:14",
                 "the '[' here is never closed: add ']', or a ',' between its items", id="unclosed-bracket"),
    pytest.param("extends: prod\nservices: [\n", "2:11",
                 "the '[' here is never closed: the file ends inside it", id="unclosed-at-the-end"),
    pytest.param("extends: prod\nproject: *base\n", "2:10", "*base refers to no anchor: define &base before it",
                 id="undefined-alias"),
]


@pytest.mark.parametrize(("text", "where", "message"), YAML_MISTAKES)
def test_yaml_syntax_errors_in_plain_words_at_the_line_to_fix(refused, text, where, message):
    assert refused(text) == f"child.yaml:{where}: invalid YAML: {message}"


def test_duplicate_key_says_where_it_was_set_first(refused):
    text = "extends: prod\nservices:\n  backend:\n    replicas: 2\n    replicas: 3\n"
    assert refused(text) == "child.yaml:5:5: duplicate key 'replicas'; it is set first at line 4"


def test_parser_words_stay_when_nothing_better_is_known():
    from vitalyst_render.yamlsource import YamlSourceError, load_yaml

    with pytest.raises(YamlSourceError) as info:
        load_yaml('a: "\\x"\n', "f.yaml")
    assert info.value.message == "invalid YAML: expected escape sequence of 2 hexdecimal numbers, but found '\"'"
    assert (info.value.line, info.value.col) == (1, 7)


# -- 12. unquoted versions and misspelt keys ---------------------------------------------------------

UNQUOTED = [
    pytest.param("environment:\n  kubernetes:\n    version: 1.30\n", "1.30",
                 "environment.kubernetes.version: expected '1.29', '1.30', '1.31', '1.32' or '1.33'; "
                 'write "1.30" in quotes — YAML reads 1.30 as the number 1.3', id="kubernetes-version"),
    pytest.param("project:\n  version: 1.30\n", "1.30",
                 'project.version: expected a version string; write "1.30" in quotes — YAML reads 1.30 as the number 1.3',
                 id="project-version"),
    pytest.param("project:\n  version: 2\n", "2",
                 'project.version: expected a version string; write "2" in quotes — YAML reads 2 as a number',
                 id="project-version-int"),
    pytest.param("services:\n  neo4j:\n    image:\n      tag: 5.10\n", "5.10",
                 "services.neo4j.image.tag: expected an image tag (letters, digits, _ . -, at most 128); "
                 'write "5.10" in quotes — YAML reads 5.10 as the number 5.1', id="image-tag"),
    pytest.param("services:\n  backend:\n    env:\n      PORT: 8000\n", "8000",
                 'services.backend.env.PORT: expected a string; write "8000" in quotes — YAML reads 8000 as a number',
                 id="env-int"),
    pytest.param("services:\n  backend:\n    env:\n      DEBUG: true\n", "true",
                 'services.backend.env.DEBUG: expected a string; write "true" in quotes — YAML reads true as a boolean',
                 id="env-bool"),
    pytest.param("services:\n  backend:\n    env:\n      MASK: 0x1F\n", "0x1F",
                 'services.backend.env.MASK: expected a string; write "0x1F" in quotes — YAML reads 0x1F as the number 31',
                 id="env-hex"),
]


@pytest.mark.parametrize(("overlay", "needle", "message"), UNQUOTED)
def test_unquoted_numbers_in_string_fields_say_quote_it(refused, overlay, needle, message):
    text = "extends: prod\n" + overlay
    assert refused(text) == f"child.yaml:{at(text, needle)}: {message}"


def test_a_number_that_would_not_do_as_text_either_gets_no_quote_hint(refused):
    text = "extends: prod\nservices:\n  backend:\n    health:\n      interval: 30\n"
    assert refused(text) == (
        f"child.yaml:{at(text, '30')}: services.backend.health.interval: "
        'expected a duration such as "30s", "5m" or "1h30m", got 30'
    )


MISSPELT = [
    pytest.param("services:\n  backend:\n    replics: 2\n", "replics",
                 "services.backend.replics: unknown key 'replics'; did you mean 'replicas'?", id="replics"),
    pytest.param("service: {}\n", "service", "service: unknown key 'service'; did you mean 'services'?", id="top-level"),
    pytest.param("services:\n  backend:\n    build: {form: backend}\n", "form",
                 "services.backend.build.form: unknown key 'form'; did you mean 'from'?", id="alias"),
    pytest.param("services:\n  backend:\n    build: {zzz: 1}\n", "zzz",
                 "services.backend.build.zzz: unknown key 'zzz'; expected one of: from, base, context, command",
                 id="no-close-match-lists-the-keys-as-written"),
]


@pytest.mark.parametrize(("overlay", "needle", "message"), MISSPELT)
def test_unknown_key_suggests_the_closest_known_one(refused, overlay, needle, message):
    text = "extends: prod\n" + overlay
    assert refused(text) == f"child.yaml:{at(text, needle)}: {message}"


# -- lists whose items count once (issue 13: key+ makes a repeat easy) -------------------------


@pytest.mark.parametrize(
    ("text", "needle", "field", "item"),
    [
        ("extends: prod\nservices:\n  backend:\n    secrets+: [neo4j-auth]\n", "neo4j-auth", "services.backend.secrets[2]", '"neo4j-auth"'),
        ("extends: prod\nservices:\n  frontend:\n    egress_ports: [443, 8443, 443]\n", "443]", "services.frontend.egress_ports[2]", "443"),
        ("extends: prod\nservices:\n  backend:\n    depends_on: [neo4j, redis, neo4j]\n", "neo4j]", "services.backend.depends_on[2]", '"neo4j"'),
    ],
)
def test_an_item_listed_twice_is_refused_where_the_repeat_is(refused, text, needle, field, item):
    assert refused(text) == f"child.yaml:{at(text, needle)}: {field}: {item} is listed twice"


def test_the_editor_schema_refuses_the_repeat_too():
    import jsonschema

    from vitalyst_render.profile.schema import editor_schema

    validator = jsonschema.Draft202012Validator(editor_schema())
    assert validator.is_valid({"extends": "prod", "services": {"backend": {"secrets": ["neo4j-auth", "redis-app-password"]}}})
    assert not validator.is_valid({"extends": "prod", "services": {"backend": {"secrets": ["neo4j-auth", "neo4j-auth"]}}})
