"""The README is part of the contract: its two commands exist, and its library example runs."""

from __future__ import annotations

import contextlib
import io
import os
import re

from .conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands():
    first_block = re.search(r"```sh\n(.*?)```", README, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["make run", "make test"]
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^run:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_library_example_runs(tmp_path):
    section = README.split("## Library API", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    stdout = io.StringIO()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with contextlib.redirect_stdout(stdout):
            exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    printed = stdout.getvalue()
    assert printed.startswith("prod 3\n")
    assert "['new']" in printed
    assert "unknown profile 'no-such-profile'" in printed
    assert (tmp_path / "rendered" / "prod" / "manifest.json").is_file()
