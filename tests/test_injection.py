"""Issue 15, class 3: no profile value can inject into a query or expression language.

Per language, hostile strings go into a field that reaches it, and either the profile is
refused with a one-line :class:`ProfileError`, or the rendered artefact, parsed back with
a real parser, holds exactly the value as one literal and nothing else:

* PromQL: promql-parser (and promtool, for samples) on the rendered rules and tests;
* regexes: Python's ``re`` and Prometheus (RE2, through promtool) on what is accepted;
* shell: ``shlex.split`` and a real bash on the scripts the roles write;
* cron: the rendered CronJob schedule, read back and validated field by field.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import tempfile
from pathlib import Path

import promql_parser as pql
import pytest
import yaml as pyyaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vitalyst_render as vr
from vitalyst_render import promql, shell
from vitalyst_render.checks._promql import walk
from vitalyst_render.cli import cli
from vitalyst_render.engine import yaml_quote
from vitalyst_render.errors import TemplateError
from vitalyst_render.profile.languages import re2_problem
from vitalyst_render.profile.types import _cron
from vitalyst_render.roles.neo4j import Neo4jBackup, window_script

from .conftest import PROFILES, require_tool

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text a profile can carry (YAML cannot hold lone surrogates as UTF-8).
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=24)
PROMQL_TRICKS = ['"', "\\", "'", "`", "}", "{", "(", ")", "[5m]", "|", ",", "=~", "!=", "#", "\n", "\r", "\t", "\x00", "\x7f",
                 "\x85", "\u2028", "\ufeff", "é", "😀", '"} or vector(1) or up{x="', '"}) or on() vector(1) #', "\\x41", "\\u00e9",
                 '\\"', "5..", "|", ".*", "$", "^"]
promql_hostile = st.one_of(text, st.lists(st.one_of(st.sampled_from(PROMQL_TRICKS), text), min_size=1, max_size=5).map("".join))
SHELL_TRICKS = ["'", '"', "$", "$(id)", "`id`", "${HOME}", ";", "&&", "|", "\n", " ", "\t", "*", "?", "[a]", "~", "#", "!", "\\",
                "-rf", "=", "{a,b}", "<", ">", "%", "é"]
shell_hostile = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=24),
    st.lists(st.one_of(st.sampled_from(SHELL_TRICKS), st.text(max_size=4)), min_size=1, max_size=5).map("".join)
    .filter(lambda value: "\x00" not in value and not any(0xD800 <= ord(c) <= 0xDFFF for c in value)),
)


def load_child(yaml_text: str) -> vr.LoadedProfile:
    """Load a profile file that extends prod, as ``render --profile-file`` does."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "child.yaml"
        path.write_text(yaml_text, encoding="utf-8")
        return vr.load_profile(path, profiles_dir=PROFILES)


def refused_cleanly(error: vr.ProfileError, field: str | None = None) -> None:
    """One line, placed at file:line:col, naming the field (when given) and what it expects."""
    message = str(error)
    assert "\n" not in message and re.match(r"\S*child\.yaml:[0-9]+:[0-9]+: ", message), message
    assert field is None or f": {field}: expected " in message, message


def dump(data) -> str:
    """YAML for Go's readers: every character outside printable ASCII escaped."""
    return pyyaml.safe_dump(data, allow_unicode=False, width=float("inf"))


def selectors(tree) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Every vector selector of a parse tree: its metric name and its matchers."""
    found = []
    for node, _ in walk(tree):
        if isinstance(node, pql.VectorSelector):
            matchers = [(m.name, {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}[str(m.op)],
                         m.value) for m in node.matchers.matchers]
            found.append((node.name, matchers))
    return found


def rules_of(result, path: str) -> dict[str, dict]:
    groups = pyyaml.safe_load(result.files[path].decode())["groups"]
    return {rule.get("record") or rule["alert"]: rule for group in groups for rule in group["rules"]}


def http_child(field: str, value: str) -> str:
    return f"extends: prod\nservices:\n  backend:\n    metrics:\n      http:\n        {field}: {yaml_quote(value)}\n"


# -- PromQL: the one quoting function ----------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(value=promql_hostile)
def test_promql_string_literal_reads_back_as_exactly_the_value(value):
    tree = pql.parse(f"up{{l={promql.string(value)}}} or vector(1)")
    assert selectors(tree) == [("up", [("l", "=", value)])]


@settings(max_examples=5, deadline=None)
@given(values=st.lists(promql_hostile, min_size=1, max_size=12))
def test_promtool_reads_promql_string_literals_as_the_value(values, tmp_path_factory):
    """Prometheus's own lexer: each value becomes a label through label_replace (whose
    replacement reads $$ as $), and the unit test expects it, written independently as YAML."""
    require_tool("promtool")
    folder = tmp_path_factory.mktemp("promtool")
    rules = [{"alert": f"A{n}", "expr": f'label_replace(vector(1), "v", {promql.string(v.replace("$", "$$"))}, "", "")'} for n, v in enumerate(values)]
    (folder / "rules.yml").write_text(dump({"groups": [{"name": "g", "rules": rules}]}), encoding="utf-8")
    tests = {"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": [{
        "interval": "1m", "input_series": [],
        "alert_rule_test": [{"eval_time": "0m", "alertname": f"A{n}", "exp_alerts": [{"exp_labels": {"v": v} if v else {}}]}
                            for n, v in enumerate(values)],
    }]}
    (folder / "rules.test.yml").write_text(dump(tests), encoding="utf-8")
    run = subprocess.run(["promtool", "test", "rules", "rules.test.yml"], cwd=folder, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_matchers_refuse_what_is_not_a_label_name():
    for name in ["", "1a", "a-b", 'a"', "a}", "a b", "é"]:
        with pytest.raises(ValueError):
            promql.matcher(name, "x")


@settings(max_examples=100, deadline=None)
@given(values=st.lists(promql_hostile, min_size=1, max_size=4, unique=True))
def test_alternation_matches_exactly_its_values(values):
    pattern = promql.alternation(values)
    tree = pql.parse(f"up{{job=~{promql.string(pattern)}}}")
    assert selectors(tree) == [("up", [("job", "=~", pattern)])]
    for value in values:
        assert re.fullmatch(pattern, value, re.DOTALL)
        assert not re.fullmatch(pattern, value + "x", re.DOTALL) or value + "x" in values


# -- PromQL: the HTTP metrics' label and status regex -----------------------------------------


def test_status_label_that_closes_the_matcher_is_refused_by_the_cli(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = http_child("status_label", 'status"} or vector(1) or up{x="')
    (tmp_path / "child.yaml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--profile-file", "child.yaml", "--profiles-dir", str(PROFILES), "--out", "out"])
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert lines[0] == (
        'render: error: child.yaml:6:23: services.backend.metrics.http.status_label: '
        'expected a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __), '
        'got "status\\"} or vector(1) or up{x=\\""'
    )
    assert not (tmp_path / "out").exists()


def test_error_status_that_is_no_re2_regex_is_refused_by_the_cli(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "child.yaml").write_text(http_child("error_status", "5(?!00).."), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--profile-file", "child.yaml", "--profiles-dir", str(PROFILES), "--out", "out"])
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert lines[0].startswith("render: error: child.yaml:6:23: services.backend.metrics.http.error_status: expected a regex "
                               'that Prometheus (RE2) reads, such as 5.. or 5..|429, got "5(?!00)..": '), lines[0]
    assert not (tmp_path / "out").exists()


def test_error_status_with_a_quote_is_one_inert_regex_in_the_rendered_rules(tmp_path, monkeypatch):
    """A quote is a character a regex may hold: the regex is kept and quoted, and the real
    render (promtool check rules and test rules included) passes with it."""
    require_tool("promtool")
    monkeypatch.chdir(tmp_path)
    value = '5..|"} or vector(1) or up{x=~"'
    (tmp_path / "child.yaml").write_text(http_child("error_status", value), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--profile-file", "child.yaml", "--profiles-dir", str(PROFILES), "--out", "out", "--strict-tools"])
    assert result.exit_code == 0, result.output
    for folder in ("prometheus", "prometheus/swarm"):
        groups = pyyaml.safe_load((tmp_path / "out" / "child" / folder / "rules.yml").read_text(encoding="utf-8"))["groups"]
        rules = {rule.get("record") or rule["alert"]: rule for group in groups for rule in group["rules"]}
        tree = pql.parse(rules["job:http_request_errors:rate5m"]["expr"])
        assert selectors(tree) == [("http_requests_total", [("job", "=", "backend"), ("status", "=~", value)])]


@SETTINGS
@given(value=promql_hostile)
def test_error_status_is_refused_or_exactly_one_regex_matcher(value):
    try:
        loaded = load_child(http_child("error_status", value))
    except vr.ProfileError as error:
        refused_cleanly(error, "services.backend.metrics.http.error_status")
        return
    assert re2_problem(value) is None
    re.compile(value)  # Python reads it too (the checks evaluate regexes in Python)
    result = vr.render(loaded)
    for path in ("prometheus/rules.yml", "prometheus/swarm/rules.yml"):
        tree = pql.parse(rules_of(result, path)["job:http_request_errors:rate5m"]["expr"])
        assert selectors(tree) == [("http_requests_total", [("job", "=", "backend"), ("status", "=~", value)])]


@SETTINGS
@given(value=st.one_of(promql_hostile, st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,8}", fullmatch=True)))
def test_status_label_is_refused_or_exactly_one_label_name(value):
    try:
        loaded = load_child(http_child("status_label", value))
    except vr.ProfileError as error:
        refused_cleanly(error, "services.backend.metrics.http.status_label")
        return
    assert re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", value) and not value.startswith("__")
    result = vr.render(loaded)
    tree = pql.parse(rules_of(result, "prometheus/rules.yml")["job:http_request_errors:rate5m"]["expr"])
    assert selectors(tree) == [("http_requests_total", [("job", "=", "backend"), (value, "=~", "5..")])]


REGEX_TRICKS = ["(?=", "(?!", "(?<=", "(?P<n>", "(?P=n)", "(?>", "(?#", "(?i)", "(?x)", "\\1", "\\Z", "\\z", "\\pL", "\\u0041",
                "\\x41", "{,3}", "{1001}", "{2}", "*+", "++", "?", "[[:digit:]]", "[a-", "]", "[", "(", ")", "|", ".", "5", "\\",
                '"', "\n"]
regex_hostile = st.lists(st.one_of(st.sampled_from(REGEX_TRICKS), st.text("5x0.9", max_size=3)), min_size=1, max_size=6).map("".join)


CORPUS = ["5..", "5..|429", "5[0-9]{2}", "(?i)5xx", "(5..){3}", "a{1000}", "(a{10}){100}", "[]a]", "[^]a]", "a{}", "a{1,2",
          "\\x41", "\\b5", '"', '\\"', "\n", "\x00", "é", "(?P<x>5)", "(?s:.)", "a*?", "a{2}?", "[a-]", "\\.\\*", "a|", "()"]


@settings(max_examples=5, deadline=None)
@given(values=st.lists(regex_hostile, min_size=20, max_size=40))
def test_accepted_regexes_compile_in_python_and_in_prometheus(values):
    """RE2 (Go's regexp, through promtool) and Python compile every regex the type
    accepts from a hostile corpus; one promtool run checks them all."""
    require_tool("promtool")
    accepted = [value for value in CORPUS + values if re2_problem(value) is None]
    for value in accepted:
        re.compile(value)
    rules = [{"record": f"r{n}", "expr": f"up{{l=~{promql.string(v)}}}"} for n, v in enumerate(accepted)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rules.yml"
        path.write_text(dump({"groups": [{"name": "g", "rules": rules}]}), encoding="utf-8")
        run = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_regexes_prometheus_or_python_read_otherwise_are_refused():
    assert all(re2_problem(value) is None for value in CORPUS)
    for value in ["(?=5)", "5(?!0)", "(?<=5)0", "\\1", "a*+", "a{1001}", "(a{100}){100}", "a{,3}", "\\Z", "[[:digit:]]", "\\u0041",
                  "(?x)5", "(?>5)", "", "5" * 201, "\ud800"]:
        assert re2_problem(value) is not None, value


# -- PromQL: a scrape target pasted into the unit tests' series -------------------------------


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=promql_hostile)
def test_scrape_target_is_refused_or_one_instance_label_of_the_test_series(value):
    child = ("extends: prod\nmonitoring:\n  exporters:\n    cadvisor-swarm:\n      scrape: static\n      platforms: [swarm]\n"
             f"      targets: [{yaml_quote(value)}]\n      metrics: [container_cpu_usage_seconds_total, container_memory_working_set_bytes,"
             " container_memory_usage_bytes, container_spec_cpu_quota, container_spec_cpu_period, container_spec_memory_limit_bytes,"
             " container_start_time_seconds, container_last_seen]\n")
    try:
        loaded = load_child(child)
    except vr.ProfileError as error:
        refused_cleanly(error)
        return
    result = vr.render(loaded)
    tests = pyyaml.safe_load(result.files["prometheus/swarm/rules.test.yml"].decode())["tests"]
    series = [item["series"] for test in tests for item in test["input_series"]]
    cadvisor = 0
    for text_ in series:
        ((name, matchers),) = selectors(pql.parse(text_))
        names = [m[0] for m in matchers]
        assert len(names) == len(set(names)) and all(op == "=" for _, op, _ in matchers)
        if name.startswith("container_") and ("job", "=", "cadvisor-swarm") in matchers:
            assert ("instance", "=", value) in matchers
            cadvisor += 1
    assert cadvisor
    config = pyyaml.safe_load(result.files["prometheus/swarm/prometheus.yml"].decode())
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "cadvisor-swarm")
    assert job["static_configs"] == [{"targets": [value]}]


# -- shell ---------------------------------------------------------------------------------------


def bash_words(script: str) -> list[str]:
    """What a real bash passes to a command: each argument, NUL-terminated."""
    run = subprocess.run(["bash", "-c", f"printf '%s\\0' {script}"], capture_output=True, check=True)
    return run.stdout.decode("utf-8", "surrogateescape").split("\0")[:-1]


@settings(max_examples=60, deadline=None)
@given(value=shell_hostile)
def test_shell_word_is_one_word_for_bash_and_shlex(value):
    quoted = shell.word(value)
    assert shlex.split(quoted) == [value]
    assert bash_words(quoted) == [value]


@settings(max_examples=60, deadline=None)
@given(value=shell_hostile)
def test_plain_shell_words_are_refused_or_read_back_unchanged(value):
    try:
        word = shell.plain(value)
    except TemplateError:
        return
    assert shlex.split(f"/backups/{word}/x") == [f"/backups/{value}/x"]
    assert bash_words(f"{word} \"/backups/{word}/$stamp\" --user {word}") == [value, f"/backups/{value}/", "--user", value]


WINDOW = Neo4jBackup.model_validate({"method": "maintenance-window", "schedule": "15 2 * * *", "retention_days": 14, "alert_after": "26h",
                                     "volume_size": "50Gi", "kubectl_image": {"repository": "bitnami/kubectl", "tag": "1.31"}})


@settings(max_examples=30, deadline=None)
@given(namespace=shell_hostile, statefulset=shell_hostile, labels=shell_hostile)
def test_window_script_variables_hold_exactly_their_values(namespace, statefulset, labels):
    script = window_script(namespace, statefulset, labels, "neo4j-backup", "neo4j-dump", WINDOW)
    subprocess.run(["bash", "-n"], input=script.encode(), check=True)
    head = script[script.index("\nnamespace=") + 1:script.index('\njob="')]
    run = subprocess.run(["bash", "-c", head + '\nprintf "%s\\0" "$namespace" "$statefulset" "$selector"'], capture_output=True, check=True)
    assert run.stdout.decode().split("\0")[:-1] == [namespace, statefulset, labels]


def unescape_kubernetes(text_: str) -> str:
    return text_.replace("$$", "$")


def containers_of(result) -> dict[str, dict]:
    documents = [d for d in pyyaml.safe_load_all(result.files["kubernetes/backups.yaml"].decode()) if d and d["kind"] == "CronJob"]
    return {d["metadata"]["name"]: d for d in documents}


@SETTINGS
@given(value=st.one_of(shell_hostile, st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)))
def test_redis_backup_user_is_refused_or_one_word_of_the_backup_script(value):
    child = (f"extends: prod\nservices:\n  redis:\n    users:\n      {yaml_quote(value)}: \"+ping +sync +psync +replconf\"\n"
             f"    backup:\n      user: {yaml_quote(value)}\n")
    try:
        loaded = load_child(child)
    except vr.ProfileError as error:
        refused_cleanly(error)
        return
    result = vr.render(loaded)
    script = unescape_kubernetes(containers_of(result)["redis-backup"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
                                 ["containers"][0]["command"][2])
    subprocess.run(["bash", "-n"], input=script.encode(), check=True)
    line = next(line for line in script.splitlines() if line.startswith("redis-cli "))
    words = shlex.split(line)
    assert words[words.index("--user") + 1] == value
    assert words[-2:] == ["<", "/run/secrets/redis-backup-password"]


# -- cron ---------------------------------------------------------------------------------------


CRON_TRICKS = ["*", "*/5", "0", "15", "2", "1-5", "mon", "jan", "60", "7", "@hourly", "@every 1h", "TZ=UTC", "CRON_TZ=Europe/Paris",
               "#", '"', "\n", "\t", " ", "  ", "-1", "5-1", "*/0", ",", "?", "L", "1/2", "'"]
cron_hostile = st.one_of(
    st.lists(st.sampled_from(CRON_TRICKS), min_size=1, max_size=7).map(" ".join),
    st.lists(st.sampled_from(["*", "*/5", "0", "1-5", "2", "1,3"]), min_size=5, max_size=5).map(" ".join),
)


@SETTINGS
@given(value=st.one_of(cron_hostile, text))
def test_backup_schedule_is_refused_or_exactly_the_cronjob_schedule(value):
    child = f"extends: prod\nservices:\n  redis:\n    backup:\n      schedule: {yaml_quote(value)}\n"
    try:
        loaded = load_child(child)
    except vr.ProfileError as error:
        refused_cleanly(error)
        assert ": services.redis.backup.schedule: " in str(error)
        return
    result = vr.render(loaded)
    schedule = containers_of(result)["redis-backup"]["spec"]["schedule"]
    assert schedule == value and len(schedule.split()) == 5 and "\n" not in schedule
    assert not re.search(r"[@=#\"'\t]", schedule)
    assert _cron(schedule) == schedule
