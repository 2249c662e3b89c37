"""Property: any string in ``services.*.env`` reaches the container exactly.

The rendered compose file and Kubernetes manifests are parsed by two independent YAML
readers (ruamel.yaml as YAML 1.2 and PyYAML as YAML 1.1, the dialect Go tooling
mostly follows), then put through Compose ``${VAR}`` interpolation and Kubernetes
``$(VAR)`` expansion as the platforms apply them. What comes out must be the input.
"""

from __future__ import annotations

import dataclasses
import json
import re

import yaml as pyyaml
from hypothesis import HealthCheck, assume, given, settings
from pydantic import ValidationError
from hypothesis import strategies as st
from ruamel.yaml import YAML

import vitalyst_render as vr

PROD = vr.load_profile("prod")
RUAMEL = YAML(typ="safe", pure=True)

# What a container can carry: any Unicode text except NUL (C strings) and surrogates.
env_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
tricky = st.sampled_from(["${HOME}", "$HOME", "$(HOSTNAME)", "$$", "a: b", "- x", "#x", "'", '"', "\\", "\n\n", " ", "yes", "null", "0x1F", "~", "|", ">-", "*a", "&a", "!tag", "%", "@", "`", "{}", "[]", "\u2028", "\x85", "\ufeff"])
values = st.one_of(env_text, st.lists(st.one_of(tricky, env_text), max_size=4).map("".join))


def compose_interpolate(text: str) -> str:
    """Docker Compose interpolation: ``$$`` is ``$``; ``$NAME`` and ``${...}`` substitute."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text[i] == "$" and i + 1 < len(text) and (text[i + 1] == "{" or re.match(r"[A-Za-z_]", text[i + 1])):
            raise AssertionError(f"unescaped interpolation at {i} in {text!r}")
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def kubernetes_expand(text: str) -> str:
    """Kubernetes ``$(VAR)`` expansion: ``$$`` is ``$``; ``$(NAME)`` substitutes."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("$(", i):
            raise AssertionError(f"unescaped $(...) at {i} in {text!r}")
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def with_env(value: str, key: str = "PROBE_VALUE") -> vr.LoadedProfile:
    backend = PROD.profile.services["backend"]
    services = {**PROD.profile.services, "backend": backend.model_copy(update={"env": {**backend.env, key: value}})}
    return dataclasses.replace(PROD, profile=PROD.profile.model_copy(update={"services": services}))


def both_readers(text: str):
    return RUAMEL.load(text), pyyaml.safe_load(text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=values)
def test_env_value_round_trips_through_compose_and_kubernetes(value):
    result = vr.render(with_env(value))
    for compose in both_readers(result.files["compose/docker-compose.yml"].decode()):
        assert compose_interpolate(compose["services"]["backend"]["environment"]["PROBE_VALUE"]) == value
    for documents in (list(RUAMEL.load_all(result.files["kubernetes/backend.yaml"].decode())),
                      list(pyyaml.safe_load_all(result.files["kubernetes/backend.yaml"].decode()))):
        deployments = [d for d in documents if d["kind"] == "Deployment"]  # two colours in blue-green
        assert deployments
        for deployment in deployments:
            env = {e["name"]: e["value"] for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
            assert kubernetes_expand(env["PROBE_VALUE"]) == value


def test_known_interpolation_attacks_are_neutralised():
    for value in ["${POSTGRES_PASSWORD}", "$(SECRET)", "x\n  injected: true", "a\"b: c", "$${X}"]:
        result = vr.render(with_env(value))
        compose = RUAMEL.load(result.files["compose/docker-compose.yml"].decode())
        environment = compose["services"]["backend"]["environment"]
        assert "injected" not in environment
        assert compose_interpolate(environment["PROBE_VALUE"]) == value


def with_description(text: str) -> vr.LoadedProfile:
    """Validated like a loaded profile: text the model refuses never reaches a template."""
    data = PROD.profile.project.model_dump()
    project = type(PROD.profile.project).model_validate({**data, "description": text})
    return dataclasses.replace(PROD, profile=PROD.profile.model_copy(update={"project": project}))


def docker_unquote(word: str) -> str:
    assert word.startswith('"') and word.endswith('"')
    return re.sub(r"\\(.)", r"\1", word[1:-1])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=values)
def test_no_profile_string_can_change_an_artefacts_structure(text):
    """A free-text field that feeds YAML, JSON and Dockerfile artefacts at once."""
    try:
        loaded = with_description(text)
    except ValidationError:
        assume(False)
    result = vr.render(loaded)
    assert [a.path for a in result.artefacts.values() if a.parse_error] == []
    # Grafana interpolates $VAR in provisioning files with the same $$ escape as Compose.
    for provider in both_readers(result.files["grafana/provisioning/dashboards/vitalyst.yml"].decode()):
        assert compose_interpolate(provider["providers"][0]["folder"]) == text
    dashboard = json.loads(result.files["grafana/dashboards/overview.json"])
    assert dashboard["title"] == f"{text} (prod)"
    dockerfile = result.files["docker/backend/Dockerfile"].decode()
    label = next(line for line in dockerfile.splitlines() if "org.opencontainers.image.description=" in line)
    assert docker_unquote(label.split("=", 1)[1].rstrip(" \\")) == text
