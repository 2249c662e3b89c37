"""VR101–VR108: our own Dockerfile checks, beyond their examples: locations, severities,
parametrised variants and edge cases, on hand-written Dockerfiles."""

from __future__ import annotations

import pytest

from .support import context, problems

BACKEND = "docker/backend/Dockerfile"


def dockerfile(text: str, profile: str = "prod"):
    return context(profile, {BACKEND: text})


@pytest.mark.parametrize("check_id", ["VR101", "VR102", "VR103", "VR104", "VR105", "VR106", "VR107", "VR108"])
@pytest.mark.parametrize("profile", ["dev", "staging", "prod"])
def test_committed_dockerfiles_pass(check_id, profile):
    assert problems(check_id, context(profile)) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FROM python:3.12\nCMD [\"x\"]\n", "no USER"),
        ("FROM python:3.12\nUSER vitalyst\n", "not numeric"),
        ("FROM python:3.12\nUSER 1000\n", "below 10000"),
        ("FROM python:3.12\nUSER 0:0\n", "(root)"),
        ("FROM python:3.12\nRUN useradd -u 10001 app\nUSER 10001\n", "login shell"),
    ],
)
def test_vr101_fail(text, message):
    (problem,) = problems("VR101", dockerfile(text))
    assert message in problem.message
    assert problem.location.file == f"out/prod/{BACKEND}"


def test_vr101_fail_reports_the_user_line():
    (problem,) = problems("VR101", dockerfile("FROM python:3.12 AS build\nUSER 10001\nFROM python:3.12\nUSER app\n"))
    assert problem.location.line == 4


def test_vr102_fail_seed_curl_on_slim_python():
    text = (
        "FROM python:3.11-slim as builder\nRUN apt-get install -y curl\n"
        "FROM python:3.11-slim\nUSER 10001\n"
        "HEALTHCHECK --interval=30s CMD curl -f http://localhost:8000/health || exit 1\n"
    )
    (problem,) = problems("VR102", dockerfile(text))
    assert "'curl'" in problem.message and problem.location.line == 5


@pytest.mark.parametrize(
    ("text", "profile", "message"),
    [
        ("FROM python\n", "dev", "has no tag"),
        ("FROM node:latest\n", "dev", "latest"),
        ("FROM localhost:5000/python\n", "dev", "has no tag"),
        ("FROM python:3.12-slim\n", "prod", "not pinned by digest"),
    ],
)
def test_vr103_fail(text, profile, message):
    (problem,) = problems("VR103", dockerfile(text, profile))
    assert message in problem.message


@pytest.mark.parametrize("line", ["ENV DB_PASSWORD=hunter2", "ENV API_KEY abc", "ARG NPM_TOKEN", "ENV A=1 GITHUB_TOKEN=x"])
def test_vr104_fail(line):
    (problem,) = problems("VR104", dockerfile(f"FROM python:3.12\n{line}\n"))
    assert "looks like a credential" in problem.message and problem.location.line == 2


def test_vr106_pass_maintained_runtimes():
    text = "FROM node:22-bookworm-slim AS a\nFROM python:3.11-slim\nFROM python:3.13\nFROM python:3\nFROM node:22\nFROM debian:12\n"
    assert problems("VR106", dockerfile(text)) == []


@pytest.mark.parametrize("line", ["FROM node:18-alpine", "FROM node:20", "FROM python:3.9-slim", "FROM python:2"])
def test_vr106_fail_end_of_life(line):
    (problem,) = problems("VR106", dockerfile(line + "\n"))
    assert "end of life" in problem.message


# -- edge cases found in review -------------------------------------------------------------


def test_heredoc_bodies_are_not_instructions():
    text = "FROM python:3.12@sha256:" + "a" * 64 + "\nCOPY <<EOF /etc/motd\nFROM evil:latest\nEOF\nUSER 10001\n"
    assert problems("VR103", dockerfile(text)) == []
    build_tool = "FROM python:3.12 AS b\nFROM python:3.12\nRUN <<EOT\napt-get -y install gcc\nEOT\n"
    assert problems("VR107", dockerfile(build_tool)) == [] or "gcc" in problems("VR107", dockerfile(build_tool))[0].message


def test_vr102_fail_derived_stage_and_shell_wrapped_probe():
    text = "FROM python:3.11-slim AS base\nFROM base\nUSER 10001\nHEALTHCHECK CMD [\"sh\", \"-c\", \"curl -f http://127.0.0.1:8000/\"]\n"
    (problem,) = problems("VR102", dockerfile(text))
    assert "'curl'" in problem.message and "python:3.11-slim" in problem.message


@pytest.mark.parametrize(
    ("arguments", "program"),
    [
        ('CMD ["python", "-c", "print(1)"]', "python"),
        ("--interval=5s CMD FOO=1 probe --fast", "probe"),
        ('CMD ["sh", "-c", "exec curl -f http://127.0.0.1/"]', "curl"),
        ('CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8000"]', "bash"),  # the shell's own redirection
        ("CMD exec 3<>/dev/tcp/127.0.0.1/8000", "sh"),  # shell form: /bin/sh -c
        ("NONE", None),
        ("CMD [not json", ""),
    ],
)
def test_vr102_healthcheck_program(arguments, program):
    from vitalyst_render.checks.docker_healthcheck import healthcheck_program

    assert healthcheck_program(arguments) == program


def test_vr102_tcp_probe_needs_bash_which_alpine_lacks():
    text = 'FROM node:22-alpine\nUSER 10001\nHEALTHCHECK CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/3000"]\n'
    (problem,) = problems("VR102", dockerfile(text))
    assert "'bash'" in problem.message


def test_vr102_pass_apt_flags_copy_to_bin_and_multi_expose():
    text = (
        "FROM python:3.12-slim\nRUN apt-get -y install --no-install-recommends curl\nCOPY probe /usr/local/bin/\n"
        "EXPOSE 8000 9090\nHEALTHCHECK CMD curl -f http://127.0.0.1:8000/\n"
    )
    assert problems("VR102", dockerfile(text)) == []
    assert problems("VR102", dockerfile("FROM python:3.12\nCOPY probe /usr/local/bin/\nHEALTHCHECK CMD probe\n")) == []


def test_vr103_resolves_build_argument_defaults():
    text = "ARG BASE=python:3.12-slim@sha256:" + "a" * 64 + "\nFROM ${BASE}\n"
    assert problems("VR103", dockerfile(text)) == []
    (problem,) = problems("VR103", dockerfile("ARG BASE=python:latest\nFROM ${BASE}\n", "dev"))
    assert "latest" in problem.message


def test_vr105_fail_exec_form_add():
    (problem,) = problems("VR105", dockerfile('FROM python:3.12\nADD ["https://x.example/t.tgz", "/opt/"]\n'))
    assert "https://x.example/t.tgz" in problem.message


def test_vr101_full_path_useradd_and_build_argument_user():
    (problem,) = problems("VR101", dockerfile("FROM python:3.12\nRUN /usr/sbin/useradd -s /bin/bash app\nUSER 10001\n"))
    assert "login shell" in problem.message
    (info,) = problems("VR101", dockerfile("FROM python:3.12\nARG UID=10001\nUSER ${UID}\n"))
    assert info.severity.value == "info"


def test_vr108_fail_bare_ignore():
    (problem,) = problems("VR108", dockerfile("FROM python:3.12\n# hadolint ignore=DL3008\nRUN apt-get install -y curl\n"))
    assert problem.location.line == 2


def test_both_ignore_files_are_rendered_alike():
    from .support import rendered

    files = rendered("dev").files
    assert files["docker/frontend/.dockerignore"] == files["docker/frontend/Dockerfile.dockerignore"]
    assert b"**/node_modules/" in files["docker/frontend/Dockerfile.dockerignore"]
