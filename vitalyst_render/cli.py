"""The ``render`` command: the only place that prints or exits.

``render`` is a click group that renders when no subcommand is given, so later
subcommands (``render deploy ...``) join without changing ``render --profile prod``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn
from pathlib import Path

import click
from click.shell_completion import CompletionItem, get_completion_class

from ._version import __version__
from .artefacts import GROUPS
from .deploy.model import PLATFORMS
from .errors import RenderError, UsageError

# Only what building the command needs is imported here: --help, --version and
# --list-profiles must not pay for pydantic, Jinja2 and the checks. Each command
# imports the rest where it runs.
if TYPE_CHECKING:
    from .checks import Report
    from .deploy import Event, Outcome, Runner
    from .profile.loader import LoadedProfile
    from .rendering import Rendering
    from .report import ProfileOutcome, Run

_COLOURS = {"error": "red", "warning": "yellow", "info": "cyan"}  # by Severity value
#: The --format choices that print one document (report.py makes it); text prints lines.
_MACHINE_FORMATS = ("json", "sarif", "junit")
_FORMATS = ("text", *_MACHINE_FORMATS)


def _machine_report(fmt: str) -> Callable[[Run], str]:
    """The function that makes the report document of ``fmt``, one of _MACHINE_FORMATS."""
    from .report import json_report, junit_report, sarif_report

    return {"json": json_report, "sarif": sarif_report, "junit": junit_report}[fmt]


def _colour() -> bool | None:
    # NO_COLOR (https://no-color.org): any non-empty value disables colour.
    return False if os.environ.get("NO_COLOR") else None


def _fail(error: RenderError) -> NoReturn:
    click.echo(f"render: error: {error}", err=True, color=_colour())
    fmt = _render_format()
    if fmt in _MACHINE_FORMATS:
        # CI reads the report whatever happened: bad input is a report holding the error.
        from .report import InputError, Run

        ctx = click.get_current_context()
        click.echo(_machine_report(fmt)(Run(errors=(InputError.of(error),))), err=bool(ctx.params.get("to_stdout")))
    sys.exit(2)


def _complete_profiles(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Shell completion of --profile: the profile names, in --profiles-dir when it came first."""
    from .profile.files import profile_names

    try:
        names = profile_names(ctx.params.get("profiles_dir"))
    except RenderError:
        return []
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def _render_format() -> str | None:
    """The report format of the render itself (``render --format``); subcommands report their own way."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.command is not cli:
        return None
    fmt = ctx.params.get("fmt")
    return fmt if isinstance(fmt, str) else None


def _output_root(ctx: click.Context, param: click.Parameter, value: str) -> Path:
    """--out as given (a Path of "" is "."): an empty or blank value would make the
    working directory itself the output root."""
    if not value.strip():
        raise click.BadParameter("is empty; give a folder (the default is out)")
    return Path(value)


def _folder_given(path: Path) -> bool:
    """Whether ``path`` is a folder; False, never an exception, for a symlink loop or a name too long."""
    return os.path.isdir(path)


def _overlay_options(command: Callable[..., None]) -> Callable[..., None]:
    """--values and --set: what a run changes in its profiles (see load_profile)."""
    command = click.option(
        "--set", "overrides", multiple=True, metavar="PATH=VALUE",
        help="Override one value for this run, typed by the model (repeatable; applied last): services.backend.replicas=5; "
        "PATH+=ITEM appends to a list.",
    )(command)
    return click.option(
        "--values", "values", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
        help="Overlay file applied over the profile, as a child profile would be, without extends (repeatable, in order).",
    )(command)


def _die_of_broken_pipe() -> NoReturn:
    """The reader of stdout went away (``render ... | head``): end as other Unix tools do,
    killed by SIGPIPE (a shell shows status 141), with no traceback and nothing on stderr.
    SIGPIPE is ignored while we run (Python's default), so that a tool's closed pipe is an
    error the checks handle; it is let through only here, at the end."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # nothing left to flush into the broken pipe
    except (OSError, ValueError):
        pass
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGPIPE)
    sys.exit(128 + signal.SIGPIPE)  # where a signal cannot end the process


class _RenderGroup(click.Group):
    """The ``render`` group: a write to a closed stdout ends the command by SIGPIPE."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            _die_of_broken_pipe()


@click.group(cls=_RenderGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--profile", "-p", "profiles", multiple=True, metavar="NAME", shell_complete=_complete_profiles, help="Profile to render (repeatable).")
@click.option("--all", "all_profiles", is_flag=True, help="Render every non-abstract profile.")
@click.option(
    "--profile-file",
    "profile_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Render a profile file from anywhere; its extends still resolves in the profiles folder.",
)
@click.option("--profiles-dir", type=click.Path(file_okay=False, path_type=Path), help="Folder of named profiles.")
@click.option(
    "--templates",
    "templates",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of templates searched before the bundled ones: override single files (e.g. kubernetes/workload.yaml.j2).",
)
@click.option(
    "--out", "out", default="out", show_default=True, type=click.Path(file_okay=False), callback=_output_root,
    help="Output root; each profile writes OUT/NAME/.",
)
@click.option("--check", is_flag=True, help="Render in memory and compare with OUT; write nothing; exit 1 on drift.")
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default="text", show_default=True, help="Report format.")
@click.option("--strict-tools", is_flag=True, help="Treat a missing external tool as an error instead of a skip.")
@click.option(
    "--only",
    "only",
    multiple=True,
    type=click.Choice(tuple(GROUPS)),
    help="Write (or with --check compare, or print) only this top-level folder of OUT/NAME/ (repeatable); checks still see every file.",
)
@click.option("--stdout", "to_stdout", is_flag=True, help="Print the --only files as one YAML stream (kubectl apply -f -); write nothing; the report goes to stderr.")
@click.option("--timings", is_flag=True, help="After the report, print where each profile's time went (phases and checks) to stderr.")
@click.option("--no-cache", "no_cache", is_flag=True, help="Run every external tool afresh: neither read nor write the cache of tool verdicts.")
@click.option("--list-profiles", is_flag=True, help="List the profiles and exit.")
@click.option("--list-checks", is_flag=True, help="List the checks and exit.")
@_overlay_options
@click.version_option(__version__, prog_name="vitalyst-render")
@click.pass_context
def cli(
    ctx: click.Context,
    profiles: tuple[str, ...],
    all_profiles: bool,
    profile_files: tuple[Path, ...],
    profiles_dir: Path | None,
    templates: Path | None,
    out: Path,
    check: bool,
    fmt: str,
    strict_tools: bool,
    only: tuple[str, ...],
    to_stdout: bool,
    timings: bool,
    no_cache: bool,
    list_profiles: bool,
    list_checks: bool,
    values: tuple[Path, ...],
    overrides: tuple[str, ...],
) -> None:
    """Render the Vitalyst stack's deployment artefacts from typed profiles, and prove them.

    \b
    Examples:
      render --profile prod          write out/prod/ and report findings
      render --all --check           CI: fail when out/ drifts from the profiles
      render --list-checks           every check with its ID and severity
    """
    if ctx.invoked_subcommand is not None:
        return
    from .errors import clipped

    if profiles_dir is not None and not _folder_given(profiles_dir):
        _fail(UsageError(f"profiles folder not found: {clipped(str(profiles_dir), 200)}"))
    if templates is not None and not _folder_given(templates):
        _fail(UsageError(f"templates folder not found: {clipped(str(templates), 200)}"))
    if list_profiles:
        from .profile.files import profile_names

        for name in profile_names(profiles_dir):
            click.echo(name)
        return
    if list_checks:
        if fmt not in ("text", "json"):
            _fail(UsageError(f"--list-checks prints text or json, not {fmt}"))
        from .report import checks_json, checks_table

        try:
            lines = [checks_json()] if fmt == "json" else checks_table()
        except RenderError as error:
            _fail(error)
            return
        for line in lines:
            click.echo(line)
        return
    if not (profiles or all_profiles or profile_files):
        _fail(UsageError("nothing to render: give --profile NAME, --profile-file PATH or --all"))
    if to_stdout and check:
        _fail(UsageError("--stdout prints the render and --check compares it with OUT: give one of them"))
    from . import check as run_checks, render
    from .checks import registry
    from .checks.parallel import check_renderings
    from .output import check_writable, yaml_stream
    from .report import Run, exit_code

    groups = tuple(g for g in GROUPS if g in only) or None
    cache = not no_cache
    started = time.perf_counter()
    stream = ""
    settled: dict[str, float] = {}  # seconds each profile took to write (or diff)
    try:
        loaded = _load(profiles, all_profiles, profile_files, profiles_dir, values, overrides)
        if to_stdout and len(loaded) != 1:
            raise UsageError(f"--stdout prints one profile, got {len(loaded)}: {', '.join(item.name for item in loaded)}")
        # Render everything before touching the disk: bad input anywhere writes nothing.
        registry()  # import every check module once, before threads race to do it
        if to_stdout:
            rendering = render(loaded[0], out=out, templates=templates)
            stream = yaml_stream(rendering, groups or GROUPS)  # a selection it refuses stops before the checks run
            results = [(rendering, run_checks(rendering, strict_tools=strict_tools, cache=cache))]
        else:
            # Render here (writing needs the renderings), then check on every core.
            renderings = [render(item, out=out, templates=templates) for item in loaded]
            results = list(zip(renderings, check_renderings(renderings, strict_tools=strict_tools, cache=cache)))
        # Error findings write nothing: out/ is committed, and a broken or leaking
        # render must not replace the last good one.
        write_files = not check and not to_stdout and not any(report.failed for _, report in results)
        if write_files:
            for rendering, _ in results:
                check_writable(rendering, out, only=groups)
        outcomes = []
        for rendering, report in results:
            settling = time.perf_counter()
            outcomes.append(_settle(rendering, report, out, check, write_files, groups, to_stdout))
            settled[rendering.profile] = time.perf_counter() - settling
    except RenderError as error:
        _fail(error)
        return
    # The stream is for kubectl: a render with error findings prints nothing, so nothing broken is applied.
    if to_stdout and exit_code(outcomes) == 0:
        click.echo(stream, nl=False)
    _report(Run(tuple(outcomes), seconds=time.perf_counter() - started, rerun=_rerun_command(ctx)), fmt, err=to_stdout)
    if timings:
        from .timings import timing_lines

        for outcome in outcomes:
            for line in timing_lines(outcome.rendering, outcome.report, "diff" if check else "write", settled[outcome.rendering.profile]):
                click.echo(line, err=True)
    sys.exit(exit_code(outcomes))


def _rerun_command(ctx: click.Context) -> str:
    """This render without --check: the command that writes what --check compared."""
    given = ctx.params
    words = ["render", *(["--all"] if given["all_profiles"] else [f"--profile {name}" for name in given["profiles"]])]
    words += [f"--profile-file {shlex.quote(str(path))}" for path in given["profile_files"]]
    for option, value in (("--profiles-dir", given["profiles_dir"]), ("--templates", given["templates"])):
        if value is not None:
            words.append(f"{option} {shlex.quote(str(value))}")
    if Path(given["out"]) != Path("out"):
        words.append(f"--out {shlex.quote(str(given['out']))}")
    words += [f"--values {shlex.quote(str(path))}" for path in given["values"]]
    words += [f"--set {shlex.quote(override)}" for override in given["overrides"]]
    words += [f"--only {group}" for group in given["only"]]
    return " ".join(words)


def _load(
    profiles: tuple[str, ...], all_profiles: bool, profile_files: tuple[Path, ...], profiles_dir: Path | None,
    values: tuple[Path, ...] = (), overrides: tuple[str, ...] = (),
) -> list[LoadedProfile]:
    """Load and validate everything first: bad input stops the run before any write."""
    from .profile.files import profile_names, profile_search_path, resolved
    from .profile.loader import load_profile
    from .profile.scalars import DNS_LABEL, named

    for name in profiles:
        if not re.fullmatch(DNS_LABEL, name):
            raise UsageError(f"--profile takes a profile name, got {named(name)}; use --profile-file for a path")
    names = list(dict.fromkeys(profiles))  # `-p prod -p prod` loads prod once
    if all_profiles:
        names += [n for n in profile_names(profiles_dir) if n not in names]
        if not names and not profile_files:
            raise UsageError(f"no profiles found in {' or '.join(map(str, profile_search_path(profiles_dir)))}")
    files = list({resolved(path): path for path in reversed(profile_files)}.values())[::-1]  # the first of each file
    sources: list[str | Path] = [*names, *files]
    loaded = [load_profile(source, profiles_dir=profiles_dir, values=values, overrides=overrides) for source in sources]
    seen: dict[str, LoadedProfile] = {}
    for item in loaded:
        if item.name in seen and resolved(seen[item.name].path) != resolved(item.path):
            raise UsageError(f"two profiles named {item.name!r} would write the same folder: {seen[item.name].path} and {item.path}")
        seen[item.name] = item
    return list(seen.values())


def _settle(
    rendering: Rendering, report: Report, out: Path, check: bool, write_files: bool, only: tuple[str, ...] | None, streamed: bool
) -> ProfileOutcome:
    """Write one rendered profile (or the groups ``only``), or compare it with the disk under --check."""
    from .output import diff, foreign_applied, write
    from .report import ProfileOutcome

    folder = (out / rendering.profile).as_posix()
    scope = only or ()
    if check:
        return ProfileOutcome(
            rendering, report, folder, drift=tuple(diff(rendering, out, only=only)), checked=True, only=scope, foreign=foreign_applied(rendering, out)
        )
    written = write(rendering, out, only=only) if write_files else None
    for stale in written.cleaned if written is not None else ():
        click.echo(f"render: removed {stale.as_posix()}, left by a render that was killed mid-write", err=True, color=_colour())
    return ProfileOutcome(rendering, report, folder, written=written, only=scope, streamed=streamed, foreign=foreign_applied(rendering, out))


def _report(run: Run, fmt: str, *, err: bool = False) -> None:
    """Print the report; ``err`` sends it to stderr, as --stdout needs stdout for the stream."""
    if fmt in _MACHINE_FORMATS:
        click.echo(_machine_report(fmt)(run), err=err)
        return
    from .report import closing_lines, text_lines

    colour = _colour()
    lines = [line for outcome in run.outcomes for line in text_lines(outcome)] + closing_lines(run)
    for line, severity in lines:
        styled = click.style(line, fg=_COLOURS[severity.value]) if severity else line
        click.echo(styled, color=colour, err=err)


@cli.command("explain")
@click.argument("query", metavar="CHECK")
def explain_command(query: str) -> None:
    """Print a check's rationale, remediation and PASS/FAIL examples, as markdown.

    CHECK is its ID in any case (VR103, vr103) or its name (docker-base-pinning);
    render --list-checks lists them.
    """
    from .checks import find_check
    from .docs import explain_text

    try:
        click.echo(explain_text(find_check(query)), nl=False)
    except RenderError as error:
        _fail(error)


def _profile_options(what: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The three options a subcommand names its one profile with (see _one_profile)."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        for option in (
            click.option("--profiles-dir", type=click.Path(file_okay=False, path_type=Path), help="Folder of named profiles."),
            click.option("--profile-file", type=click.Path(dir_okay=False, path_type=Path), help="A profile file instead of a name."),
            click.option("--profile", "-p", "profile", metavar="NAME", shell_complete=_complete_profiles, help=what),
        ):
            command = option(command)
        return command

    return decorate


@cli.command("redis-acl")
@_profile_options("Profile whose redis service to fill in.")
@click.option("--service", metavar="NAME", help="The redis service; needed when the profile has more than one.")
@click.option(
    "--passwords-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="One file per ACL user, named after the user, holding its password (e.g. a secrets mount).",
)
def redis_acl_command(profile: str | None, profile_file: Path | None, profiles_dir: Path | None, service: str | None, passwords_dir: Path) -> None:
    """Print a redis service's ACL file with every user's password hash.

    The output holds SHA-256 hashes, never a password; pipe it straight into the
    secret store instead of saving it:

    \b
      render redis-acl --profile prod --passwords-dir /run/vault/redis | docker secret create redis-acl -
    """
    from . import redis_acl

    try:
        loaded = _one_profile(profile, profile_file, profiles_dir)
        click.echo(redis_acl(loaded, _read_passwords(passwords_dir), service), nl=False)
    except RenderError as error:
        _fail(error)


def _read_passwords(folder: Path) -> dict[str, str]:
    """Each regular file's content, named by the file, without trailing newlines (as $(cat) reads it)."""
    if not folder.is_dir():
        raise UsageError(f"passwords folder not found: {folder}")
    passwords = {}
    for path in sorted(folder.iterdir()):
        if path.is_file():
            try:
                passwords[path.name] = path.read_text(encoding="utf-8").rstrip("\r\n")
            except (OSError, UnicodeDecodeError) as error:
                raise UsageError(f"{path}: cannot read the password: {error}") from None
    return passwords


def _one_profile(
    profile: str | None, profile_file: Path | None, profiles_dir: Path | None, *, use_lock: bool = True,
    values: tuple[Path, ...] = (), overrides: tuple[str, ...] = (),
) -> LoadedProfile:
    """The one profile a subcommand works on, named by --profile or --profile-file."""
    from .profile.loader import load_profile

    if (profile is None) == (profile_file is None):
        raise click.UsageError("give exactly one of --profile NAME or --profile-file PATH")
    return load_profile(profile_file if profile_file is not None else str(profile), profiles_dir=profiles_dir, use_lock=use_lock,
                        values=values, overrides=overrides)


@cli.command("show")
@_profile_options("Profile to show.")
@_overlay_options
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True, help="Output format.")
@click.option("--origin", is_flag=True, help="Say where each value came from: file:line:col, --set ..., or default.")
def show_command(
    profile: str | None, profile_file: Path | None, profiles_dir: Path | None, values: tuple[Path, ...], overrides: tuple[str, ...],
    fmt: str, origin: bool,
) -> None:
    """Print the resolved profile: extends merged, --values and --set applied, defaults
    and image-lock digests filled in, exactly as a render reads it.

    Saved as a profile file it renders the same bytes. --origin annotates each value:
    in YAML an end-of-line comment, in JSON {"profile": ..., "origins": {field.path: where}}.

    \b
      render show --profile prod --origin
      render show --profile prod --set services.backend.replicas=5 --format json
    """
    from .profile.show import show_json, show_yaml

    try:
        loaded = _one_profile(profile, profile_file, profiles_dir, values=values, overrides=overrides)
    except RenderError as error:
        _fail(error)
    click.echo((show_json if fmt == "json" else show_yaml)(loaded, with_origins=origin), nl=False)


@cli.command("schema")
@click.option("--resolved", is_flag=True, help="The schema of a resolved profile (render show's output) instead.")
def schema_command(resolved: bool) -> None:
    """Print the JSON schema of profile files, for editors (the kinds of installed plugins included).

    \b
      mkdir -p schemas && render schema > schemas/profile.schema.json
    """
    from .profile.schema import editor_schema, resolved_schema, schema_text

    try:
        schema = resolved_schema(plugins=True) if resolved else editor_schema(plugins=True)
    except RenderError as error:
        _fail(error)
    click.echo(schema_text(schema), nl=False)


@cli.command("pin")
@_profile_options("Profile whose images to pin.")
@click.option("--check", is_flag=True, help="Ask the registries and compare with the lock; write nothing; exit 1 when it would change.")
@click.option("--timeout", type=click.FloatRange(min=1), default=10, show_default=True, help="Seconds to wait for each registry answer.")
def pin_command(profile: str | None, profile_file: Path | None, profiles_dir: Path | None, check: bool, timeout: float) -> None:
    """Resolve each image tag of a profile to its digest and record them in the image lock.

    The lock is <profile>.lock.yaml beside the profile file; every render reads it and
    fills in the digests the profile leaves out. Each registry is asked over its HTTP
    API (the Bearer token flow, or Basic, with the logins of ~/.docker/config.json).
    Exit 0 pinned, 1 a registry could not answer (or, with --check, the lock would
    change), 2 bad input.

    \b
      render pin --profile prod && render --profile prod
      git add profiles/prod.lock.yaml out/prod
    """
    from .pin import plan_pins, write_lock
    from .profile.files import display_path
    from .registry import RegistryError, resolve

    try:
        loaded = _one_profile(profile, profile_file, profiles_dir, use_lock=False)
    except RenderError as error:
        _fail(error)
    try:
        plan = plan_pins(loaded, lambda reference: resolve(reference, timeout=timeout))
    except RegistryError as error:
        click.echo(f"render: pin: {error}", err=True, color=_colour())
        sys.exit(1)
    except RenderError as error:
        _fail(error)
    for item in plan.pins:
        click.echo(item.describe())
    for reference in plan.dropped:
        click.echo(f"{reference}: no longer used; dropped from the lock")
    shown = display_path(plan.lock)
    if check:
        if plan.changed:
            click.echo(f"render: pin: {shown} is out of date: run render pin and commit it", err=True, color=_colour())
            sys.exit(1)
        click.echo(f"{shown} is up to date")
        return
    if not plan.changed and plan.lock.is_file():
        click.echo(f"{shown} is up to date")
        return
    try:
        write_lock(plan)
    except RenderError as error:
        _fail(error)
    click.echo(f"wrote {shown}: render {loaded.name} again and commit both")


def _deploy_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options every deploy command takes: which profile, to which platform."""
    command = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="json: one event per line.")(command)
    command = click.option("--platform", type=click.Choice(PLATFORMS), help="swarm (docker stack) or kubernetes (kubectl).")(command)
    return _profile_options("Profile to deploy.")(command)


class _EventPrinter:
    """Events as lines: JSON for machines; on a terminal each service's wait progress
    rewrites its own line, elsewhere (CI logs) every event is a plain line."""

    def __init__(self, fmt: str):
        self.fmt = fmt
        self.terminal = fmt == "text" and sys.stdout.isatty()
        self.progress_of: str | None = None

    def __call__(self, event: Event) -> None:
        if self.fmt == "json":
            click.echo(json.dumps(event.as_json(), sort_keys=True))
            return
        who = f"{event.service}: " if event.service else ""
        line = f"{event.step:<9} {event.status:<8} {who}{event.message}"
        colour = {"failed": "red", "ok": "green", "skipped": "yellow"}.get(event.status)
        styled = click.style(line, fg=colour) if colour else line
        if self.terminal and self.progress_of is not None and self.progress_of == event.service and event.step == "wait":
            click.echo("\r\033[K", nl=False)
        elif self.progress_of is not None:
            click.echo()
        self.progress_of = None
        if self.terminal and event.step == "wait" and event.status == "progress":
            click.echo(styled, nl=False, color=_colour())
            self.progress_of = event.service
        else:
            click.echo(styled, color=_colour())

    def finish(self) -> None:
        if self.progress_of is not None:
            click.echo()
            self.progress_of = None


def _runner(
    profile: str | None, profile_file: Path | None, profiles_dir: Path | None, platform: str | None, printer: _EventPrinter, timeout: float = 600.0
) -> tuple[LoadedProfile, Runner]:
    """The profile a deploy command names and the runner for its platform; bad usage exits 2."""
    from .deploy import AuditLog, Runner
    from .deploy import executor as deploy_executor
    from .registry import exists

    if platform is None:
        raise click.UsageError("give --platform swarm or --platform kubernetes")
    try:
        loaded = _one_profile(profile, profile_file, profiles_dir)
        target = deploy_executor(loaded, platform)  # type: ignore[arg-type]
    except RenderError as error:
        _fail(error)
    audit = AuditLog(Path(loaded.profile.deployment.audit_log), target.target, loaded.name)
    return loaded, Runner(target, audit, printer, exists, timeout)


def _finish(outcome: Outcome, printer: _EventPrinter) -> None:
    printer.finish()
    if printer.fmt == "json":
        click.echo(json.dumps({"step": "result", "ok": outcome.ok, "failed_step": None if outcome.ok else outcome.step, "message": outcome.message,
                               "revision": outcome.revision, "failures": outcome.failures, "rolled_back": list(outcome.rolled_back)}, sort_keys=True))
    elif not outcome.ok:
        click.echo(f"render: deploy: {outcome.message}", err=True, color=_colour())
    sys.exit(0 if outcome.ok else 1)


@cli.group("deploy", invoke_without_command=True)
@_deploy_options
@click.option(
    "--out", default="out", show_default=True, type=click.Path(file_okay=False), callback=_output_root,
    help="Where the committed render lives (OUT/NAME/).",
)
@click.option("--dry-run", is_flag=True, help="Preflight and plan only: print what would change and change nothing.")
@click.option("--timeout", type=click.FloatRange(min=1), default=600, show_default=True, help="Seconds to wait for the release to converge.")
@click.pass_context
def deploy_group(
    ctx: click.Context, profile: str | None, profile_file: Path | None, profiles_dir: Path | None, platform: str | None, fmt: str, out: Path, dry_run: bool, timeout: float
) -> None:
    """Deploy a profile's committed render: preflight, plan, apply, wait, verify, and roll
    back automatically on failure. Exit 0 deployed, 1 refused or rolled back, 2 bad usage.

    \b
    Examples:
      render deploy --profile prod --platform swarm --dry-run
      render deploy --profile prod --platform kubernetes --format json
      render deploy history --profile prod --platform swarm
      render deploy rollback --profile prod --platform swarm --to 3
    """
    if ctx.invoked_subcommand is not None:
        return
    printer = _EventPrinter(fmt)
    loaded, runner = _runner(profile, profile_file, profiles_dir, platform, printer, timeout)
    _finish(runner.deploy(loaded, out=out, dry_run=dry_run), printer)


@deploy_group.command("rollback")
@_deploy_options
@click.option("--to", "to", type=click.IntRange(min=1), help="Revision to restore (see render deploy history); default: the previous good one.")
@click.option("--dry-run", is_flag=True, help="Print what the rollback would change and change nothing.")
@click.option("--timeout", type=click.FloatRange(min=1), default=600, show_default=True, help="Seconds to wait for the rollback to converge.")
def deploy_rollback(profile: str | None, profile_file: Path | None, profiles_dir: Path | None, platform: str | None, fmt: str, to: int | None, dry_run: bool, timeout: float) -> None:
    """Restore a recorded release: its files are applied again, waited for and verified,
    and recorded as a new release. Never removes the stack."""
    printer = _EventPrinter(fmt)
    loaded, runner = _runner(profile, profile_file, profiles_dir, platform, printer, timeout)
    _finish(runner.rollback(loaded.name, to=to, dry_run=dry_run), printer)


@deploy_group.command("history")
@_deploy_options
def deploy_history(profile: str | None, profile_file: Path | None, profiles_dir: Path | None, platform: str | None, fmt: str) -> None:
    """List the releases recorded on the target, oldest first."""
    from .deploy import DeployError

    _, runner = _runner(profile, profile_file, profiles_dir, platform, _EventPrinter(fmt))
    try:
        runner.executor.connect()
        releases = runner.executor.releases()
    except DeployError as error:
        click.echo(f"render: deploy: {error}", err=True, color=_colour())
        sys.exit(1)
    if fmt == "json":
        click.echo(json.dumps([r.summary() for r in releases], indent=2, sort_keys=True))
        return
    if not releases:
        click.echo(f"no releases recorded on {runner.executor.target}")
        return
    for release in releases:
        back = f" (rollback to {release.rollback_of})" if release.rollback_of else ""
        click.echo(f"{release.revision:>4}  {release.when}  {release.result:<11} {release.who}{back}  profile {release.profile_digest[:19]}")
        for service, images in sorted(release.images.items()):
            click.echo(f"        {service}: {', '.join(images)}")
        if release.detail:
            click.echo(f"        {release.detail}")


@cli.group("testbed")
def testbed_group() -> None:
    """A private Docker engine, single-node swarm and local registry for live proof.

    Needs root, Debian's docker.io, docker-registry and mmdebstrap. State lives in
    VITALYST_TESTBED_DIR (default /var/lib/vitalyst-testbed); both daemons are
    stopped by PID, never by name.
    """


def _testbed_failed(error: Exception) -> None:
    click.echo(f"render: testbed: {error}", err=True, color=_colour())
    sys.exit(2)


@testbed_group.command("up")
def testbed_up() -> None:
    """Start the engine and registry, build (or reuse) the stand-in images and push them."""
    from .testbed import Testbed, TestbedError, ensure_standins

    testbed = Testbed()
    try:
        with testbed.locked():
            testbed.up()
            images = ensure_standins(testbed)
    except TestbedError as error:
        _testbed_failed(error)
        return
    click.echo(f"testbed up: DOCKER_HOST={testbed.host} registry {testbed.registry}")
    for name, image in images.items():
        click.echo(f"  {name}: {image.reference}")


@testbed_group.command("down")
@click.option("--purge", is_flag=True, help="Also delete the state folder: the image cache and the registry's storage.")
def testbed_down(purge: bool) -> None:
    """Leave the swarm and stop the engine and registry by PID."""
    from .testbed import Testbed, TestbedError

    testbed = Testbed()
    try:
        with testbed.locked():
            stopped = testbed.down(purge=purge)
    except TestbedError as error:
        _testbed_failed(error)
        return
    click.echo(f"testbed down: stopped {', '.join(stopped) or 'nothing (not running)'}" + ("; state deleted" if purge else ""))


@testbed_group.command("status")
def testbed_status() -> None:
    """Print the testbed's daemons, swarm state and stand-in images as JSON."""
    import json

    from .testbed import Testbed

    click.echo(json.dumps(Testbed().status(), indent=2, sort_keys=True))


#: The shells click's completion machinery writes scripts for.
_SHELLS = ("bash", "zsh", "fish")


@cli.command("completion")
@click.argument("shell", type=click.Choice(_SHELLS))
def completion_command(shell: str) -> None:
    """Print the completion script for SHELL: options, subcommands and profile names.

    \b
      eval "$(render completion bash)"    # in ~/.bashrc
      eval "$(render completion zsh)"     # in ~/.zshrc, after compinit
      render completion fish > ~/.config/fish/completions/render.fish
    """
    completion = get_completion_class(shell)
    if completion is None:  # click dropped a shell it used to know
        raise click.UsageError(f"click cannot complete {shell}")
    # The variable click's entry point reads: main() names the program "render".
    click.echo(completion(cli, {}, "render", "_RENDER_COMPLETE").source())


def main() -> None:
    """Console-script entry point."""
    try:
        cli.main(prog_name="render", standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("render: interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
