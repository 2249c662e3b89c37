"""Generate the reference docs that come from code: ``docs/checks.md``,
``docs/profile.schema.json`` and the editor schema ``schemas/profile.schema.json``. A
test fails when the committed copies are stale.

Run ``python -m vitalyst_render.docs`` (or ``make docs``) after changing a check or a model.
"""

from __future__ import annotations

from pathlib import Path

from .checks import registry
from .checks.base import BUILT_IN, Check
from .checks.examples import Example
from .profile.schema import editor_schema, resolved_schema, schema_text

DOCS = Path(__file__).resolve().parent.parent / "docs"
SCHEMAS = DOCS.parent / "schemas"


def checks_markdown() -> str:
    lines = [
        "# Checks reference",
        "",
        "Generated from the check registry by `python -m vitalyst_render.docs`; do not edit.",
        "",
        "IDs are stable and never reused: `VR0xx` core, `VR1xx` docker, `VR2xx` compose,",
        "`VR3xx` kubernetes, `VR4xx` prometheus/alertmanager, `VR5xx` redis,",
        "`VR6xx` cross-artefact, `VR9xx` tool adapters. Suppress one per profile with",
        "`checks.suppress: [{id: VRnnn, reason: ...}]`.",
        "",
        "| ID | name | default severity | title |",
        "| --- | --- | --- | --- |",
    ]
    checks = {i: c for i, c in registry().items() if c.origin == BUILT_IN}
    for check in checks.values():
        lines.append(f"| [{check.id}](#{check.id.lower()}) | `{check.name}` | {check.severity.value} | {check.title} |")
    for check in checks.values():
        lines += ["", f"## {check.id}", "", *check_section(check)]
    return "\n".join(lines) + "\n"


def check_section(check: Check) -> list[str]:
    """A check as the reference shows it: name and severity, rationale and remediation, examples."""
    lines = [f"`{check.name}`, {check.severity.value}" + (f", runs `{check.tool}`" if check.tool else ""), "", check.doc]
    for example in check.examples:
        lines += ["", *example_markdown(example)]
    return lines


def explain_text(check: Check) -> str:
    """What ``render explain`` prints: the check's reference section (markdown), with its origin and link."""
    lines = [f"# {check.id}: {check.title}", "", *check_section(check), "", f"Origin: {check.origin}."]
    if check.help_uri:
        lines.append(f"Reference: {check.help_uri}")
    return "\n".join(lines) + "\n"


def example_markdown(example: Example) -> list[str]:
    """One PASS or FAIL example as the reference shows it: the change, then the findings."""
    lines = [f"**{example.verdict.upper()}**: {example.summary}", ""]
    if example.overlay is not None:
        lines += [f"The `{example.profile}` profile with this overlay:", "", "```yaml", example.overlay.rstrip("\n"), "```"]
    else:
        lines.append(f"The `{example.profile}` profile" + (":" if example.edits else ", as shipped."))
    for edit in example.edits:
        lines += ["", f"Rendered, then in `{edit.path}`:", "", "```diff"]
        lines += [f"-{line}" for line in edit.old.rstrip("\n").split("\n")]
        lines += [f"+{line}" for line in edit.new.rstrip("\n").split("\n")] if edit.new.strip() else []
        lines.append("```")
    if example.verdict == "fail":
        lines += ["", "Findings:", ""] + [f"- `{expect.file}`: {expect.message}" for expect in example.expect]
    return lines


def profile_schema() -> str:
    return schema_text(resolved_schema())


def editor_profile_schema() -> str:
    return schema_text(editor_schema())


GENERATED = {"checks.md": checks_markdown, "profile.schema.json": profile_schema}
#: Generated into schemas/, which ships in the wheel beside the profiles that name it.
SCHEMAS_GENERATED = {"profile.schema.json": editor_profile_schema}


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    for name, make in GENERATED.items():
        (DOCS / name).write_text(make(), encoding="utf-8")
        print(f"wrote docs/{name}")
    for name, make in SCHEMAS_GENERATED.items():
        (SCHEMAS / name).write_text(make(), encoding="utf-8")
        print(f"wrote schemas/{name}")


if __name__ == "__main__":
    main()
