"""Helpers that several checks share (not checks themselves)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

from ..dockerfile import Dockerfile, Instruction, shell_words
from ..errors import Location

#: Words that announce a credential in a variable or key name, matched as whole
#: underscore-separated words (TOKENIZERS_PARALLELISM is not a token).
SECRET_WORDS = {"PASSWORD", "PASSWD", "PASS", "PASSPHRASE", "SECRET", "TOKEN", "APIKEY", "CREDENTIAL", "CREDENTIALS", "AUTH"}
SECRET_PAIRS = {("API", "KEY"), ("PRIVATE", "KEY"), ("ACCESS", "KEY")}
#: A name ending in one of these (JWT_SIGNING_KEY, SESSION_SALT) also holds key material.
SECRET_SUFFIXES = {"KEY", "SALT"}
#: A URL that carries a password: scheme://user:password@host.
URL_WITH_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@", re.IGNORECASE)
#: Packages an install command adds: apt-get/apt install and apk add, with any flags.
INSTALL = re.compile(r"(?:apt-get|apt)\s+(?:-\S+\s+)*install\s+(.+?)(?:&&|;|\||$)|apk\s+(?:-\S+\s+)*add\s+(.+?)(?:&&|;|\||$)")


def looks_secret(name: str) -> bool:
    """A name that announces a credential value (``*_FILE`` names a file: the safe pattern)."""
    words = name.upper().split("_")
    if words[-1] == "FILE":
        return False
    return (
        bool(SECRET_WORDS & set(words))
        or words[-1] in SECRET_SUFFIXES
        or any(pair in SECRET_PAIRS for pair in zip(words, words[1:]))
    )


def secret_in_value(value: str) -> bool:
    return bool(URL_WITH_PASSWORD.search(value))


def installed_packages(arguments: str) -> set[str]:
    packages: set[str] = set()
    for match in INSTALL.finditer(arguments):
        words = (match.group(1) or match.group(2) or "").split()
        packages |= {re.split(r"[=<>]", w)[0] for w in words if not w.startswith("-")}
    return packages


def dockerfiles(ctx) -> Iterator[tuple[Any, Dockerfile]]:  # noqa: ANN001 - CheckContext
    for artefact in ctx.parsed("dockerfile"):
        yield artefact, artefact.data


def at(ctx, artefact, instruction: Instruction | int) -> Location:  # noqa: ANN001
    line = instruction if isinstance(instruction, int) else instruction.line
    return ctx.location(artefact.path, line, 1)


def env_pairs(instruction: Instruction) -> list[tuple[str, str]]:
    """``ENV``/``ARG`` key-value pairs, in both ``K=V`` and legacy ``K V`` forms."""
    text = instruction.arguments.strip()
    if instruction.keyword == "ENV" and "=" not in text.split(" ", 1)[0]:
        key, _, value = text.partition(" ")
        return [(key, value.strip())]
    pairs = []
    for word in shell_words(text):
        key, _, value = word.partition("=")
        pairs.append((key, value))
    return pairs


def compose_document(ctx):  # noqa: ANN001, ANN201
    """The parsed compose artefact, or None when it did not parse."""
    return ctx.artefact("compose/docker-compose.yml")


def compose_services(ctx) -> Iterator[tuple[str, dict, Any]]:  # noqa: ANN001
    """(name, service mapping, artefact) for every service in the compose file."""
    artefact = compose_document(ctx)
    if artefact is None or not isinstance(artefact.data, dict):
        return
    for name, service in (artefact.data.get("services") or {}).items():
        if isinstance(service, dict):
            yield name, service, artefact


def where(ctx, artefact, *path: str | int, positions=None) -> Location:  # noqa: ANN001
    """The rendered location of ``path`` inside a parsed YAML artefact (or inside one
    document of a stream, given that document's ``positions``)."""
    loc = (positions or artefact.positions).value(tuple(path))
    return ctx.location(artefact.path, loc.line, loc.col)


# -- Kubernetes ---------------------------------------------------------------------------

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet"}


@dataclass(frozen=True)
class KubeObject:
    artefact: Any
    document: dict
    positions: Any

    @property
    def kind(self) -> str:
        return str(self.document.get("kind", ""))

    @property
    def name(self) -> str:
        return str((self.document.get("metadata") or {}).get("name", "?"))

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"

    def at(self, ctx, *path: str | int) -> Location:  # noqa: ANN001
        return where(ctx, self.artefact, *path, positions=self.positions)


def kube_objects(ctx) -> Iterator[KubeObject]:  # noqa: ANN001
    for artefact in ctx.parsed("yaml-stream"):
        if artefact.path.startswith("kubernetes/"):
            for document, positions in artefact.documents:
                if isinstance(document, dict):
                    yield KubeObject(artefact, document, positions)


def pod_template(obj: KubeObject) -> tuple[dict, tuple] | None:
    """(pod spec, its path) of a workload object; None for other kinds."""
    spec = obj.document.get("spec") or {}
    if obj.kind == "Pod":
        return spec, ("spec",)
    if obj.kind == "CronJob":
        pod = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
        return pod.get("spec") or {}, ("spec", "jobTemplate", "spec", "template", "spec")
    if obj.kind in WORKLOAD_KINDS:
        return (spec.get("template") or {}).get("spec") or {}, ("spec", "template", "spec")
    return None


def pod_labels(obj: KubeObject) -> dict:
    spec = obj.document.get("spec") or {}
    if obj.kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    return ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}


def pods(ctx) -> Iterator[tuple[KubeObject, dict, tuple]]:  # noqa: ANN001
    """(workload, pod spec, pod spec path) for every object that runs pods."""
    for obj in kube_objects(ctx):
        found = pod_template(obj)
        if found is not None:
            yield obj, found[0], found[1]


def pod_containers(ctx) -> Iterator[tuple[KubeObject, dict, dict, tuple]]:  # noqa: ANN001
    """(workload, pod spec, container, container path) for every container, init included."""
    for obj, pod, prefix in pods(ctx):
        for container, path in containers(pod, prefix):
            yield obj, pod, container, path


def containers(pod: dict, prefix: tuple) -> Iterator[tuple[dict, tuple]]:
    """Every container of a pod spec, init containers included, with its path."""
    for field in ("initContainers", "containers"):
        for index, container in enumerate(pod.get(field) or []):
            if isinstance(container, dict):
                yield container, prefix + (field, index)


def in_profile(ctx, *path: str | int) -> Location:  # noqa: ANN001
    """Where ``path`` is set in the profile's YAML (the file that set it, through extends)."""
    return ctx.loaded.positions.value(tuple(path))
