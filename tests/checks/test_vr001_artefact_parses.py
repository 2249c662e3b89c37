"""VR001: a rendered YAML/JSON artefact that does not parse is blamed on its template line."""

from __future__ import annotations

import shutil

import vitalyst_render as vr

from ..conftest import REPO


def findings(report, check_id):
    return [f for f in report.findings if f.check_id == check_id]


def test_vr001_pass_committed_profiles_parse(rendered):
    for result, report in rendered.values():
        assert findings(report, "VR001") == []
        for artefact in result.artefacts.values():
            if artefact.parse_as != "none":
                assert artefact.parse_error is None and artefact.data is not None


def test_vr001_fail_points_at_the_template_line(tmp_path):
    # One overridden template, ahead of the bundled ones: the finding names its file.
    templates = tmp_path / "templates"
    (templates / "prometheus").mkdir(parents=True)
    prometheus = templates / "prometheus" / "prometheus.yml.j2"
    shutil.copy(REPO / "templates" / "prometheus" / "prometheus.yml.j2", prometheus)
    lines = prometheus.read_text().split("\n")
    line_no = next(i for i, line in enumerate(lines) if line.startswith("rule_files:")) + 1
    lines[line_no - 1] = "rule_files: [rules.yml"  # unclosed flow sequence
    prometheus.write_text("\n".join(lines))

    result = vr.render(vr.load_profile("dev"), templates=templates, out="out")
    report = vr.check(result, tools=False)

    (finding,) = findings(report, "VR001")
    assert finding.severity is vr.checks.Severity.ERROR
    assert finding.location.file == str(prometheus.resolve())
    rendered_at = finding.related[0]
    assert rendered_at.file == "out/dev/prometheus/prometheus.yml"
    # YAML notices the unclosed list a little later; the blame maps that exact output
    # line back to the template line that wrote it.
    assert finding.location.line >= line_no
    rendered_line = result.files["prometheus/prometheus.yml"].decode().split("\n")[rendered_at.line - 1]
    assert lines[finding.location.line - 1] == rendered_line
    assert report.failed


def test_vr001_fail_in_json_artefact(tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    dashboard = templates / "grafana" / "overview.json.j2"
    dashboard.write_text(dashboard.read_text() + "{{ 1 }}\n")  # trailing garbage after the document

    result = vr.render(vr.load_profile("dev"), templates=templates)

    (finding,) = findings(vr.check(result, tools=False), "VR001")
    assert "invalid JSON" in finding.message
    assert finding.location.file == str(dashboard.resolve())
    assert finding.location.line == len(dashboard.read_text().rstrip("\n").split("\n"))
