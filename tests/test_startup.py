"""The commands that only describe the tool start without the render machinery, and the
package's public API loads lazily yet whole (issue 14). No timing here: what is imported
is what costs, and benchmarks/ measures the seconds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import vitalyst_render as vr
from vitalyst_render import deploy, profile
from vitalyst_render.profile.files import profile_names

from .conftest import PROFILES, REPO

#: What only a render, a check or a report needs.
HEAVY = (
    "jinja2", "pydantic", "pydantic_core", "ruamel", "jsonschema", "jsonschema_rs",
    "vitalyst_render.checks", "vitalyst_render.engine", "vitalyst_render.profile.models", "vitalyst_render.report",
)
#: Runs the CLI as the console script does, then writes which heavy modules it loaded.
PROBE = """
import json, sys
report, sys.argv = sys.argv[1], ["render", *sys.argv[2:]]
from vitalyst_render.cli import main
try:
    main()
except SystemExit as exit:
    code = exit.code
heavy = sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in {heavy!r}))
open(report, "w").write(json.dumps({{"exit": code, "heavy": heavy}}))
""".format(heavy=HEAVY)


def probe(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[dict[str, object], str]:
    """Run ``render ARGS`` in a fresh interpreter: (its exit code and heavy modules, its stdout)."""
    report = tmp_path / "probe.json"
    environment = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1", **(env or {})}
    done = subprocess.run([sys.executable, "-c", PROBE, str(report), *args], cwd=tmp_path, env=environment,
                          capture_output=True, text=True, timeout=120)
    assert report.is_file(), done.stderr
    return json.loads(report.read_text()), done.stdout


@pytest.mark.parametrize(
    ("args", "shows"),
    [
        (("--help",), "Usage: render [OPTIONS] [COMMAND] [ARGS]..."),
        (("--version",), f"vitalyst-render, version {vr.__version__}"),
        (("completion", "bash"), "_render_completion()"),
        (("show", "--help"), "Usage: render show [OPTIONS]"),
    ],
)
def test_describing_commands_load_nothing_heavy(tmp_path, args, shows):
    outcome, stdout = probe(tmp_path, *args)
    assert outcome == {"exit": 0, "heavy": []}
    assert shows in stdout


def test_list_profiles_reads_the_files_without_the_models(tmp_path):
    outcome, stdout = probe(tmp_path, "--list-profiles")
    assert stdout.split() == profile_names(PROFILES)
    assert outcome["exit"] == 0
    # Telling an abstract profile from a real one parses its YAML, with the loader's own parser.
    assert [m for m in outcome["heavy"] if not m.startswith("ruamel")] == []


def test_profile_completion_needs_no_models(tmp_path):
    env = {"_RENDER_COMPLETE": "bash_complete", "COMP_WORDS": "render --profile ", "COMP_CWORD": "2"}
    outcome, stdout = probe(tmp_path, env=env)
    assert stdout.split() == [f"plain,{name}" for name in profile_names(PROFILES)]
    assert outcome["exit"] == 0
    assert [m for m in outcome["heavy"] if not m.startswith("ruamel")] == []


def test_importing_the_package_loads_nothing_heavy():
    code = "import sys, vitalyst_render; print(sorted(m for m in sys.modules if any(m == h or m.startswith(h + '.') for h in %r)))" % (HEAVY,)
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stderr


def test_the_public_api_resolves_to_its_definitions():
    from vitalyst_render.checks import Severity
    from vitalyst_render.profile.loader import load_profile

    assert vr.load_profile is load_profile and vr.Severity is Severity
    assert callable(vr.render) and callable(vr.check)
    from vitalyst_render import check, load_profile as imported, render

    assert (render, check, imported) == (vr.render, vr.check, load_profile)


@pytest.mark.parametrize("package", [vr, profile, deploy], ids=lambda p: p.__name__)
def test_every_exported_name_resolves_and_is_listed(package):
    star: dict[str, object] = {}
    exec(f"from {package.__name__} import *", star)
    assert set(package.__all__) <= set(star)
    assert set(package.__all__) <= set(dir(package))
    assert all(getattr(package, name) is star[name] for name in package.__all__)


@pytest.mark.parametrize("package", [vr, profile, deploy], ids=lambda p: p.__name__)
def test_an_unknown_name_is_an_attribute_error(package):
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        package.no_such_name  # noqa: B018
    assert not hasattr(package, "no_such_name")


def test_submodules_resolve_as_attributes_as_they_did_when_imported_eagerly():
    code = "import vitalyst_render as vr; print(vr.checks.registry is not None, vr.__version__)"
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["True", vr.__version__], done.stderr
