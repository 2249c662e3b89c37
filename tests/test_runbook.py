"""The rendered operations docs: RUNBOOK.md with each profile's real values, and topology.mmd."""

from __future__ import annotations

import re

import pytest

import vitalyst_render as vr
from vitalyst_render.checks import registry
from vitalyst_render.checks.context import CheckContext
from vitalyst_render.checks.shellcheck import shell_blocks

from .conftest import OUT, require_tool

_EDGE = re.compile(r'^  n_(\S+) -->\|"(\d+)/(TCP|UDP)"\| n_(\S+)$', re.M)


def runbook(profile: str) -> str:
    return (OUT / profile / "docs" / "RUNBOOK.md").read_text()


def test_the_prod_runbook_holds_prods_real_values_and_commands():
    text = runbook("prod")
    plan = vr.render(vr.load_profile("prod")).plan
    assert "Swarm stack `vitalyst-prod`" in text and "Kubernetes namespace `vitalyst`" in text
    for service in plan.services.values():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{service.name}` |"))
        assert f"`{service.image}`" in row and f"| {service.replicas}" in row
        assert f"{service.resources.limits.cpu} |" in row and f"{service.resources.limits.memory} |" in row
    assert "| `neo4j-backup` | `neo4j` | `15 2 * * *` | 14 days |" in text
    assert "| `redis-backup` | `redis` | `45 * * * *` | 3 days |" in text
    commands = "\n".join(block for _, block in shell_blocks(text))
    for command in [
        "render deploy --profile prod --platform swarm",
        "render deploy --profile prod --platform kubernetes",
        "docker stack deploy --with-registry-auth --prune --compose-file out/prod/compose/docker-compose.yml vitalyst-prod",
        "kubectl --namespace vitalyst rollout status deployment/backend-blue",
        "docker service scale vitalyst-prod_frontend=3",
        "render deploy rollback --profile prod --platform swarm",
        "docker service rollback vitalyst-prod_backend",
        "kubectl --namespace vitalyst rollout undo statefulset/neo4j",
        "neo4j-admin, database, load, neo4j, --from-path=/backups/neo4j/$STAMP",
        "cp, /backups/redis/$DUMP",
        'docker node update --availability drain "$NODE"',
        'kubectl drain "$NODE" --ignore-daemonsets',
    ]:
        assert command in commands, command
    for secret in plan.profile.secrets:
        assert f"\n### {secret}\n" in text
        assert f"kubectl --namespace vitalyst create secret generic {secret} " in commands
    assert "--secret-add source=redis-metrics-password-next,target=redis-metrics-password,uid=10001,gid=10001,mode=0400 vitalyst-prod_redis-exporter" in commands
    assert "**Unpinned:**" in text  # the shipped prod has no digests and says so


def test_every_alert_links_to_an_anchor_of_its_profiles_runbook():
    for profile in ("dev", "staging", "prod"):
        rules = (OUT / profile / "prometheus" / "rules.yml").read_text()
        urls = re.findall(r'runbook_url: "([^"]+)"', rules)
        assert urls
        anchors = set(re.findall(r'<a id="([^"]+)"></a>', runbook(profile)))
        for url in urls:
            page, _, anchor = url.partition("#")
            assert page.endswith(f"/out/{profile}/docs/RUNBOOK.md") and anchor in anchors, url


@pytest.mark.parametrize("profile", ["dev", "staging", "prod"])
def test_the_topology_draws_exactly_the_planned_edges(profile):
    plan = vr.render(vr.load_profile(profile)).plan
    text = (OUT / profile / "docs" / "topology.mmd").read_text()
    ids = {name.replace("-", "_"): name for name in [*plan.services, *(job.name for job in plan.backups)]}
    drawn = {(ids[a], ids[b], int(port), proto) for a, port, proto, b in _EDGE.findall(text)}
    assert drawn == {(e.caller, e.callee, e.port, e.protocol) for e in plan.edges}
    for service in plan.services.values():
        assert re.search(rf'^  n_{service.name.replace("-", "_")}\["{service.name} \({service.kind}\)<br/>', text, re.M)


@pytest.mark.slow
@pytest.mark.parametrize("profile", ["dev", "staging", "prod"])
def test_every_runbook_command_passes_shellcheck(profile):
    result = vr.render(vr.load_profile(profile))
    context = CheckContext.of(result)
    assert shell_blocks(result.files["docs/RUNBOOK.md"].decode())
    assert [p.message for p in registry()["VR908"].function(context)] == []


def test_hostile_profile_text_stays_text_in_the_runbook_and_the_topology(tmp_path):
    path = tmp_path / "hostile.yaml"
    path.write_text(
        "extends: staging\n"
        "project:\n  description: 'a | b <img src=x onerror=alert(1)> [link](http://x) `code` *bold* # no heading'\n"
    )
    result = vr.render(vr.load_profile(path))
    text = result.files["docs/RUNBOOK.md"].decode()
    assert r"a \| b \<img src=x onerror=alert(1)\> \[link\](http://x) \`code\` \*bold\* \# no heading" in text
    assert not re.search(r"(?<!\\)<img", text)
    topology = result.files["docs/topology.mmd"].decode()
    plan = result.plan
    assert len(_EDGE.findall(topology)) == len(plan.edges)
    # The topology's one free text, environment.domain, is a host name now; the label
    # escaping stays, should any other text reach a label.
    from vitalyst_render.engine import mermaid_scalar

    assert mermaid_scalar('kg.example"]; n_backend --> n_redis; x["') == "kg.example#34;]#59; n_backend --#62; n_redis#59; x[#34;"
    path.write_text("extends: staging\nenvironment:\n  domain: 'kg.example\"]; n_backend --> n_redis; x[\"'\n")
    with pytest.raises(vr.ProfileError, match="expected a host name like kg.example"):
        vr.load_profile(path)


def _section(text: str, secret: str) -> str:
    return text.split(f"\n### {secret}\n", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]


def test_kubernetes_rotation_says_what_refreshes_and_restarts_only_what_reads_at_start():
    text = runbook("staging")
    assert "kubelet" in text and "subPath" in text  # why the files refresh on their own
    health = _section(text, "redis-health-password")
    # Only redis's health check reads it, afresh at every probe: nothing to restart.
    assert "rollout restart" not in health and "every health check" in health
    backend = _section(text, "redis-app-password")
    assert "kubectl --namespace vitalyst-staging rollout restart deployment/backend" in backend
    acl = _section(text, "redis-acl")
    assert "rollout restart statefulset/redis" in acl
    metrics = _section(text, "redis-metrics-password")
    assert "rollout restart statefulset/redis" in metrics  # the exporter reads it at start
    backup = _section(text, "redis-backup-password")
    assert "rollout restart" not in backup and "next run" in backup


@pytest.mark.parametrize("profile", ["staging", "prod"])
def test_restore_jobs_pass_the_namespaces_restricted_pod_security(profile):
    # The namespace enforces Pod Security "restricted": a Job the runbook applies must pass it.
    from ruamel.yaml import YAML

    jobs = re.findall(r"--filename - <<EOF\n(.*?)\nEOF\n", runbook(profile), re.S)
    assert len(jobs) == 2  # Neo4j and Redis
    for text in jobs:
        job = YAML(typ="safe", pure=True).load(text.replace("$STAMP", "20260101T021500Z").replace("$DUMP", "dump.rdb"))
        pod = job["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in pod["containers"]:
            assert container["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}


@pytest.mark.parametrize("profile", ["staging", "prod"])
def test_rotating_neo4j_auth_changes_the_password_in_neo4j_first(profile):
    section = runbook(profile).split("\n### neo4j-auth\n", 1)[1].split("\n### ", 1)[0]
    # NEO4J_AUTH_FILE sets the password only on an empty database: the database is told first.
    change = section.index("ALTER CURRENT USER SET PASSWORD")
    assert change < section.index("docker secret create neo4j-auth-next")
    assert change < section.index("create secret generic neo4j-auth")
    assert section.index("exec -it neo4j-0 -c neo4j -- cypher-shell -u neo4j -d system") < change


def test_a_long_runbook_is_checked_in_parts_with_every_finding_at_its_line():
    """VR908 splits many blocks across shellcheck processes; each finding keeps its line."""
    from vitalyst_render.artefacts import Artefact

    result = vr.render(vr.load_profile("dev"))
    blocks = "".join(f"Step {i}:\n\n```sh\necho ok\nrm -rf $DIR{i}/\n```\n\n" for i in range(60))
    text = "# Runbook\n\n" + blocks
    artefacts = {**result.artefacts, "docs/RUNBOOK.md": Artefact("docs/RUNBOOK.md", text, "docs/RUNBOOK.md.j2", "markdown", "none")}
    context = CheckContext(result.loaded, result.plan, artefacts, result.folder)
    found = [p for p in registry()["VR908"].function(context) if p.location.file.endswith("RUNBOOK.md")]
    lines = text.splitlines()
    unquoted = [number for number, line in enumerate(lines, 1) if line.startswith("rm -rf $DIR")]
    assert len(unquoted) == 60
    assert sorted({p.location.line for p in found if "SC2086" in p.message}) == unquoted


def test_shellcheck_shared_out_among_processes_says_what_one_process_says(monkeypatch):
    from vitalyst_render.checks import shellcheck

    require_tool("shellcheck")
    files = {f"block-{n}.sh": f"echo $x{n}\n" * (n + 1) + ("cd /tmp\n" if n % 2 else "ls `pwd`\n") for n in range(7)}
    alone = shellcheck._run("sh", files)
    monkeypatch.setattr(shellcheck.os, "cpu_count", lambda: 3)
    assert [sorted(group) for group in shellcheck._shares(files, 3)] != [sorted(files)]  # three processes
    # (One process lists the files last first; what it says of each is the same.)
    def said(comments):
        return sorted((c["file"], c["line"], c["column"], c["code"], c["message"]) for c in comments)

    shared = shellcheck._comments("sh", files)
    assert alone and said(shared) == said(alone)
    assert [c["file"] for c in shared] == sorted((c["file"] for c in shared), key=list(files).index)  # in file order
