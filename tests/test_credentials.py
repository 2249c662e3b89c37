"""Credentials outside ``env`` (issue 15, class 4): userinfo in URL fields is refused
where it is written, a credential in any other text of the profile is refused at load,
and one that reaches a generated file anyway is reported with where it came from."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from vitalyst_render.cli import cli

from .test_refused_profiles import at, refused  # noqa: F401  (refused is a fixture)

PASSWORD = "Hunter2xyz!"
USER = "deploybot"


def _exporter_targets(target: str) -> str:
    return f"extends: dev\nmonitoring:\n  exporters:\n    cadvisor-compose:\n      targets: ['{target}']\n"


# (overlay, the value as written, field path)
_URL_FIELDS = [
    ("extends: dev\nproject:\n  source: '{url}'\n", "project.source"),
    ("extends: dev\nmonitoring:\n  runbook_base_url: '{url}'\n", "monitoring.runbook_base_url"),
]
_USERINFO = [f"https://{USER}:{PASSWORD}@git.example/vitalyst/deploy", f"https://{USER}@git.example/vitalyst/deploy",
             f"http://{USER}:{PASSWORD}@git.example:8443", f"https://:{PASSWORD}@git.example/x"]


@pytest.mark.parametrize("url", _USERINFO)
@pytest.mark.parametrize(("overlay", "field"), _URL_FIELDS, ids=[f for _, f in _URL_FIELDS])
def test_userinfo_in_a_url_field_is_refused_without_echoing_it(refused, overlay, field, url):
    text = overlay.format(url=url)
    line = refused(text)
    assert line.startswith(f"child.yaml:{at(text, chr(39) + url)}: {field}: expected "), line
    assert "user name or password" in line and ", got " in line
    assert PASSWORD not in line and USER not in line, line
    assert "***@git.example" in line


@pytest.mark.parametrize(
    "target",
    [f"{USER}:{PASSWORD}@cadvisor:8080", f"{USER}@cadvisor:8080", f"http://{USER}:{PASSWORD}@cadvisor:8080"],
)
def test_userinfo_in_a_scrape_target_is_refused_without_echoing_it(refused, target):
    text = _exporter_targets(target)
    line = refused(text)
    assert line.startswith(f"child.yaml:{at(text, chr(39) + target)}: monitoring.exporters.cadvisor-compose.targets[0]: expected "), line
    assert "host:port" in line
    assert PASSWORD not in line and USER not in line, line


@pytest.mark.parametrize(
    ("target", "got"),
    [
        ("http://cadvisor:8080", "a scheme"),
        ("cadvisor", "no port"),
        ("cadvisor:0", "the port 0"),
        ("cadvisor:99999", "the port 99999"),
        ("cadvisor:8080/metrics", "a path"),
        ("cad visor:8080", "a host name"),
    ],
)
def test_a_scrape_target_is_host_and_port(refused, target, got):
    text = _exporter_targets(target)
    line = refused(text)
    assert line.startswith(f"child.yaml:{at(text, chr(39) + target)}: monitoring.exporters.cadvisor-compose.targets[0]: "
                           "expected host:port"), line
    assert got in line, line


@pytest.mark.parametrize("target", ["cadvisor:8080", "tasks.cadvisor:8080", "10.0.0.7:9100", "[2001:db8::7]:9100",
                                    "node_exporter:9100"])
def test_scrape_targets_accepted(target):
    from vitalyst_render.profile.models import Exporter

    assert Exporter(scrape="static", platforms=["compose"], targets=[target], metrics=["up"]).targets == [target]


@pytest.mark.parametrize("url", ["https://github.com/vitalyst/vitalyst-knowledge-graph", "http://git.example:8080/a/b?x=1#frag",
                                 "https://[2001:db8::1]/repo", "https://git.example/a@b"])
def test_urls_without_userinfo_are_accepted(url):
    from vitalyst_render.profile.models import Project

    project = Project(name="x", description="d", version="1", vendor="v", source=url, licenses="MIT")
    assert project.source == url


@pytest.mark.parametrize("source", ["not a url", "git@github.com:vitalyst/repo.git", "ftp://git.example/repo", "https://"])
def test_project_source_is_a_url(refused, source):
    text = f"extends: dev\nproject:\n  source: '{source}'\n"
    line = refused(text)
    assert line.startswith(f"child.yaml:{at(text, chr(39) + source)}: project.source: expected "), line
    assert "USER" not in line


# -- credentials in free text, refused at load ------------------------------------------------------

_AWS = "AKIAIOSFODNN7EXAMPL3"
_FREE_TEXT = [
    ("extends: dev\nproject:\n  description: 'Vitalyst; deploy with password={secret} today'\n", "project.description",
     PASSWORD, "a credential assigned to password"),
    ("extends: dev\nproject:\n  vendor: 'Vitalyst {secret}'\n", "project.vendor", _AWS, "an AWS access key"),
    ("extends: dev\nsecrets:\n  neo4j-auth:\n    description: 'see redis://app:{secret}@redis:6379/0'\n",
     "secrets.neo4j-auth.description", PASSWORD, "a URL with a password"),
    ("extends: dev\nchecks:\n  suppress:\n    - id: VR106\n      reason: 'token: {secret}'\n", "checks.suppress[0].reason",
     PASSWORD, "a credential assigned to token"),
    ("extends: dev\nservices:\n  backend:\n    args: [serve, '--api-key={secret}']\n", "services.backend.args[1]",
     PASSWORD, "a credential assigned to api-key"),
]


@pytest.mark.parametrize(("overlay", "field", "secret", "what"), _FREE_TEXT, ids=[f for _, f, _, _ in _FREE_TEXT])
def test_a_credential_in_profile_text_is_refused_at_load(refused, overlay, field, secret, what):
    text = overlay.format(secret=secret)
    line = refused(text)
    where = at(text, "'--api-key" if "args" in field else "'")
    assert line.startswith(f"child.yaml:{where}: {field}: expected text without credentials"), line
    assert f"got {what}" in line, line
    assert secret not in line, line


@pytest.mark.parametrize("text", [
    'Password of the Redis ACL user "app" that the backend uses.',
    'Neo4j credentials in the "neo4j/<password>" form read by NEO4J_AUTH_FILE.',
    "token: see the vault entry deploy/slack", "password=${REDIS_PASSWORD}", "api_key: <api-key>",
    "clone ssh://git@github.com/vitalyst/deploy.git", "password_file: /run/secrets/db-password",
    "secret: redis-backup-password", "the auth token rotates monthly",
])
def test_prose_about_secrets_and_references_to_them_are_no_credential(tmp_path, text):
    """What profiles say about secrets, and how they name them, loads: the detector finds nothing."""
    from vitalyst_render.credentials import leaks
    from vitalyst_render.profile.loader import load_profile

    assert leaks(text) == []
    (tmp_path / "child.yaml").write_text(f"extends: dev\nproject:\n  description: '{text}'\n", encoding="utf-8")
    assert load_profile(tmp_path / "child.yaml").profile.project.description == text


_TOKEN_AS_USER = "https://x9f8Kq2LmZ7wQ@git.example/vitalyst/deploy.git"
_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N"


@pytest.mark.parametrize(("secret", "what"), [(_TOKEN_AS_USER, "a URL with a token as its user name"),
                                              (_JWT, "a JSON web token"),
                                              ("Authorization: Bearer 9fK2xQ7mZp4vL8wR", "an HTTP authorization header")])
def test_tokens_in_a_description_are_refused_without_echoing_them(refused, secret, what):
    text = f"extends: dev\nproject:\n  description: 'mirror of {secret}'\n"
    line = refused(text)
    assert line == (f"child.yaml:{at(text, chr(39))}: project.description: expected text without credentials "
                    f"(declare a secret and mount it instead), got {what}")


# -- credentials that reach a generated file: VR606 names their origin -------------------------------


def test_a_credential_from_env_in_a_generated_file_names_its_profile_field(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = f"extends: dev\nservices:\n  backend:\n    env:\n      NOTE: {_AWS}\n"
    (tmp_path / "child.yaml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--profile-file", "child.yaml", "--out", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    (index,) = [i for i, line in enumerate(lines) if "VR606 AWS access key" in line]
    assert re.match(r"^\S*out/child/compose/docker-compose\.yml:\d+:\d+: error VR606 AWS access key found in a "
                    r"generated file, from services\.backend\.env\.NOTE", lines[index]), lines[index]
    assert lines[index + 1].strip() == f"see also child.yaml:{at(text, _AWS)}"
    assert _AWS not in result.output


def test_the_detector_finds_a_password_like_value_and_a_url_with_a_password():
    from vitalyst_render.credentials import leaks

    found = leaks(f"a: 1\nDB_PASSWORD={PASSWORD}\nurl: redis://app:{PASSWORD}@redis:6379\n")
    assert [(leak.line, leak.message) for leak in found] == [
        (2, "DB_PASSWORD is assigned a password-like value"),
        (3, "a URL with a password found in a generated file"),
    ]
    assert {leak.secret for leak in found} == {PASSWORD}


# -- no error quotes a credential, whatever type refused the value -------------------------

@pytest.mark.parametrize(("overlay", "needle"), [
    # A secret-named query key: the scheme's colon once hid it from the detector.
    (f"extends: dev\nmonitoring:\n  runbook_base_url: 'https://wiki.example/rb?password={PASSWORD}1'\n", "'https"),
    # Refused by the host-name type, before any credential scan: the message masks the userinfo.
    (f"extends: dev\nenvironment:\n  domain: '{USER}:{PASSWORD}@vitalyst.example'\n", "'deploybot"),
    (f"extends: dev\nenvironment:\n  domain: 'https://{USER}:{PASSWORD}@vitalyst.example'\n", "'https"),
    # Refused by the label-value type.
    (f"extends: dev\nproject:\n  version: 'password={PASSWORD}'\n", "'password"),
], ids=["url-query", "domain-userinfo", "domain-url", "version"])
def test_no_error_quotes_a_credential_whichever_type_refuses_it(refused, overlay, needle):
    line = refused(overlay)
    assert line.startswith(f"child.yaml:{at(overlay, needle)}: "), line
    assert PASSWORD not in line, line


def test_a_set_override_error_names_its_path_not_its_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    token = "ghp_" + "A1b2C3d4E5" * 4
    result = CliRunner().invoke(cli, ["--profile", "dev", "--set", f"project.description=pw {token}", "--out", "out"])
    assert result.exit_code == 2, result.output
    assert token not in result.output and "--set project.description=pw ***" in result.output, result.output
