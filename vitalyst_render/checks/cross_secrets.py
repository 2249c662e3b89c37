"""VR606: secrets are declared, used, referenced by file, and never written out."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from ..credentials import KNOWN_FORMATS as KNOWN_FORMATS, entropy as entropy, leaks, line_numbers
from ..errors import Location
from ..kube import secret_references
from ..profile.loader import field_path
from ..profile.text_credentials import profile_strings

from ._support import looks_secret, secret_in_value
from .base import Problem, Severity, check
from .context import COMPOSE, CheckContext
from .examples import ADD_CACHE, ADD_WORKER, Edit, Expect, Fail, Pass

# Not /var/run/secrets/kubernetes.io/…: that is the service-account mount, not ours.
_RUN_SECRETS = re.compile(r"(?<![A-Za-z0-9_./-])/run/secrets/([a-z0-9]([-a-z0-9]*[a-z0-9])?)")
#: What a finding about a credential that no profile field holds adds.
NOT_FROM_THE_PROFILE = ", written by a template or plugin (no profile field holds it)"


def _backend_env(**env: str) -> str:
    """An overlay that sets environment variables of the backend."""
    return "services:\n  backend:\n    env:\n" + "".join(f"      {key}: {value}\n" for key, value in env.items())


_DEV_MOUNT = "      - source: redis-app-password\n        target: /run/secrets/redis-app-password\n"

EXAMPLES = (
    Fail("a password literal in a service's env in the profile", overlay=_backend_env(DB_PASSWORD="hunter2"),
         expect=[Expect(COMPOSE, "services.backend.env.DB_PASSWORD holds a credential literal")]),
    Fail("a URL with a password in a service's env", overlay=_backend_env(REDIS_URL="redis://app:s3cret@redis:6379/0"),
         expect=[Expect(COMPOSE, "services.backend.env.REDIS_URL holds a credential literal")]),
    Fail("a *_FILE variable that names a file outside /run/secrets/",
         overlay=_backend_env(DB_PASSWORD_FILE="/etc/vitalyst/db-password"),
         expect=[Expect(COMPOSE, "services.backend.env.DB_PASSWORD_FILE should name a file under /run/secrets/, not hold a value")]),
    Fail("a secret declared in the profile that nothing mounts", profile="dev",
         overlay="secrets:\n  spare:\n    description: nobody mounts it\n",
         expect=[Expect("example.yaml", "secret 'spare' is declared but nothing uses it")]),
    Fail("compose mounts a secret the profile does not declare (the mount and its /run/secrets path)", profile="dev",
         edits=[Edit(COMPOSE, _DEV_MOUNT, _DEV_MOUNT + "      - source: stripe-key\n        target: /run/secrets/stripe-key\n")],
         expect=[Expect(COMPOSE, "secret 'stripe-key' is used but not declared in the profile")] * 2),
    Fail("an AWS access key and a high-entropy secret value written into a generated file", profile="dev",
         edits=[Edit(COMPOSE, "      LOG_LEVEL: debug\n",
                     "      LOG_LEVEL: debug\n      NOTE: AKIAABCDEFGHIJKLMNOP\n      SESSION_SECRET: 9fK2xQ7mZp4vL8wR3tY6\n")],
         expect=[Expect(COMPOSE, "AWS access key found in a generated file" + NOT_FROM_THE_PROFILE),
                 Expect(COMPOSE, "SESSION_SECRET is assigned a high-entropy value" + NOT_FROM_THE_PROFILE)]),
    Fail("a URL with a password and a password-like value that a template wrote into a generated file", profile="dev",
         edits=[Edit(COMPOSE, "      LOG_LEVEL: debug\n",
                     "      LOG_LEVEL: debug\n      CACHE: redis://app:Hunter2xyz!@redis:6379/0\n"
                     "      command: serve --db-password=Hunter2xyz!\n")],
         expect=[Expect(COMPOSE, "a URL with a password found in a generated file" + NOT_FROM_THE_PROFILE),
                 Expect(COMPOSE, "db-password is assigned a password-like value" + NOT_FROM_THE_PROFILE)]),
    Fail("an AWS access key in a plain env variable of the profile, reported with the field it came from",
         profile="dev", overlay=_backend_env(NOTE="AKIAIOSFODNN7EXAMPL3"),
         expect=[Expect(COMPOSE, "AWS access key found in a generated file, from services.backend.env.NOTE")]),
    Fail("a second Redis whose exporter mounts a secret the profile does not declare", overlay=ADD_CACHE,
         edits=[Edit(COMPOSE, "source: cache-metrics-password", "source: cache-exporter-password")],
         expect=[Expect(COMPOSE, "secret 'cache-exporter-password' is used but not declared in the profile")]),
    Pass("DB_PASSWORD_FILE naming a declared, mounted secret; TOKENIZERS_PARALLELISM is no token",
         overlay="secrets:\n  db-password:\n    description: the database password\n"
                 "services:\n  backend:\n    secrets: [neo4j-auth, redis-app-password, db-password]\n"
                 "    env:\n      DB_PASSWORD_FILE: /run/secrets/db-password\n      TOKENIZERS_PARALLELISM: 'false'\n"),
    Pass("a second Redis added in the profile with its own ACL, health and exporter secrets", overlay=ADD_CACHE),
    Pass("a worker added in the profile that mounts the backend's neo4j secret", overlay=ADD_WORKER),
)


@check("VR606", "cross-secrets", "a secret is undeclared, unused, or written as a literal", Severity.ERROR,
       examples=EXAMPLES)
def secrets_everywhere(ctx: CheckContext) -> Iterable[Problem]:
    """Across every artefact:

    * every secret referenced (compose ``secrets``, Kubernetes secret volumes and
      refs, ``/run/secrets/<name>`` paths in env values and configs) is declared in
      the profile, and every declared secret is used somewhere;
    * no ``env`` entry in the profile carries a credential literal: a key naming a
      PASSWORD, SECRET, TOKEN, API_KEY, PRIVATE_KEY or AUTH without ``_FILE``, or a
      URL with a password;
    * no generated file contains a credential in a known format (cloud and chat
      tokens, private keys), a URL with a password, or a high-entropy or password-like
      value (eight characters or more, three kinds of characters) assigned to a
      secret-named key. The finding names the profile field the credential came from
      (and points at it), or says that a template or plugin wrote it. The profile
      model refuses the same credentials in every text outside ``env`` at load, and
      userinfo in every URL field, so what this finds in generated files comes from
      ``env`` or from a template or plugin.

    Remediation: declare the secret, mount it, and pass ``*_FILE``; remove literals.
    """
    declared = set(ctx.profile.secrets)
    used: set[str] = set()
    # The name as written (None where a volume names none), and how to find it for a finding.
    referenced: list[tuple[Any, Callable[[], Location]]] = []
    view = ctx.compose
    if view is not None:
        for name, service in view.services.items():
            for index, mount in enumerate(service.get("secrets") or []):
                source = mount.get("source") if isinstance(mount, dict) else mount
                referenced.append((source, partial(ctx.where, view.artefact, "services", name, "secrets", index)))
    for pod in ctx.pods:
        # Secret volumes, projected sources and env references alike.
        for name, path in secret_references(pod.spec, pod.path):
            referenced.append((name, partial(pod.obj.at, *path)))
    for artefact in ctx.artefacts.values():
        line_of = line_numbers(artefact.text)
        for match in _RUN_SECRETS.finditer(artefact.text):
            referenced.append((match.group(1), partial(ctx.location, artefact.path, line_of(match.start())[0])))
    for name, locate in referenced:
        used.add(name)
        if name not in declared:
            yield Problem(f"secret {name!r} is used but not declared in the profile", locate(), related=(ctx.in_profile("secrets"),))
    for name in sorted(declared - used):
        yield Problem(f"secret {name!r} is declared but nothing uses it", ctx.in_profile("secrets", name),
                      severity=Severity.WARNING, related=(ctx.location(COMPOSE),))
    reported: set[tuple[str | int, ...]] = set()  # the env entries reported here: their copies are not reported again
    for service_name, spec in ctx.profile.services.items():
        for key, value in spec.env.items():
            if key.upper().endswith("_FILE") and looks_secret(key[:-5]) and not value.startswith("/run/secrets/"):
                yield Problem(f"services.{service_name}.env.{key} should name a file under /run/secrets/, not hold a value",
                              _env_location(ctx, service_name, key),
                              related=(ctx.in_profile("services", service_name, "env", key), *_env_related(ctx, service_name, key)))
            elif looks_secret(key) or secret_in_value(value):
                reported.add(("services", service_name, "env", key))
                yield Problem(f"services.{service_name}.env.{key} holds a credential literal", _env_location(ctx, service_name, key),
                              hint=f"declare a secret and set {key}_FILE=/run/secrets/<name>",
                              related=(ctx.in_profile("services", service_name, "env", key), *_env_related(ctx, service_name, key)))
    texts: list[tuple[tuple[str | int, ...], str]] | None = None
    for artefact in ctx.artefacts.values():
        for leak in leaks(artefact.text):
            if texts is None:
                texts = list(profile_strings(ctx.profile.model_dump(mode="python", by_alias=True)))
            # The profile field the credential came from: the first whose text holds it.
            origin = next((path for path, text in texts if leak.secret in text), None)
            where = ctx.location(artefact.path, leak.line, leak.col)
            if origin is None:
                yield Problem(leak.message + NOT_FROM_THE_PROFILE, where)
            elif origin not in reported:
                yield Problem(f"{leak.message}, from {field_path(origin)}", where, related=(ctx.in_profile(*origin),),
                              hint="remove it from the profile; declare a secret and mount it instead")


def _leaks(text: str) -> list[tuple[int, str]]:
    """(line, message) of each credential in the text, as :func:`~vitalyst_render.credentials.leaks` finds them."""
    return [(leak.line, leak.message) for leak in leaks(text)]


def _env_location(ctx: CheckContext, service: str, key: str) -> Location:
    if ctx.compose is not None:
        return ctx.where(ctx.compose.artefact, "services", service, "environment", key)
    return ctx.location(COMPOSE)


def _env_related(ctx: CheckContext, service: str, key: str) -> tuple[Location, ...]:
    return tuple(
        found.obj.at(*found.path, "env", e)
        for found in ctx.containers
        if found.container.get("name") == service
        for e, variable in enumerate(found.container.get("env") or [])
        if variable.get("name") == key
    )
