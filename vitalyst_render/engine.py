"""Sandboxed Jinja2 rendering with per-syntax auto-quoting.

Every ``{{ expression }}`` goes through the ``finalize`` hook of its template's syntax,
so a value from a profile can never change the structure of an artefact:

* ``yaml``: strings become YAML scalars that read back as the same string in YAML 1.1
  and 1.2 (plain when that is safe, double-quoted otherwise); numbers, booleans and
  null stay plain. ``dollar-yaml`` is ``yaml`` plus ``$`` → ``$$`` for files whose
  consumer interpolates variables (Compose, Grafana provisioning), so every value
  arrives exactly as written in the profile.
* ``json``: every value becomes a JSON literal.
* ``conf`` (redis.conf): plain words pass; anything else is double-quoted with escapes.
* ``dockerfile``: plain words pass; anything else must be quoted explicitly with
  ``|json`` or the render fails, since a Dockerfile has no single safe quoting.
* ``markdown`` (the runbook): one line, markup characters backslash-escaped; ``|code``
  makes an inline code span and ``|sh`` / ``|shjoin`` shell words for command lines.
* ``mermaid`` (the topology): label text with ``"`` and markup characters as entities.

A template opts out for one expression with ``|verbatim`` (text it built itself), and
``|json`` emits a JSON literal in any syntax (exec-form ``CMD``, flow lists).

There is no access to the process environment, the clock or randomness: the globals
are only what the caller passes in, and Jinja's ``lipsum`` (random) is removed.

>>> engine = Engine(Path(__file__).parent.parent / "templates")
>>> engine.render_string('key: {{ v }}', "yaml", {"v": "a: b\\n- c"}).text
'key: "a: b\\\\n- c"'
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shlex
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Sequence
from typing import Any, Callable, Iterator

import jinja2
import jinja2.ext
import jinja2.lexer
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .errors import Location, TemplateError
from .profile.types import cpu_millis, memory_bytes
from .promql import regex_literal

SYNTAXES = ("yaml", "dollar-yaml", "json", "conf", "dockerfile", "text", "markdown", "mermaid")


class Verbatim(str):
    """Text a template built deliberately; finalize passes it through unchanged."""


# -- scalar quoting --------------------------------------------------------------------

# YAML's printable set minus the characters a reader may treat as line breaks (NEL,
# LS, PS) or strip (BOM): those are escaped so the value survives any YAML reader.
_YAML_UNSAFE = re.compile("[^\x09\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_YAML_ESCAPES = {"\\": "\\\\", '"': '\\"', "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": "\\0"}


def _yaml_escape_char(match: re.Match[str]) -> str:
    char = match.group()
    if char in _YAML_ESCAPES:
        return _YAML_ESCAPES[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def yaml_quote(text: str) -> str:
    """A double-quoted YAML scalar that reads back as exactly ``text``."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + _YAML_UNSAFE.sub(_yaml_escape_char, escaped) + '"'


def _number(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        raise TemplateError(f"cannot emit the non-finite number {value!r}")
    return repr(value) if isinstance(value, float) else str(value)


# Plain (unquoted) only for a conservative subset that every YAML reader, 1.1 or 1.2,
# reads back as the same string: no indicators, no numbers, no boolean/null words.
_YAML_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./-]*$")
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def yaml_scalar(value: Any) -> str:
    if isinstance(value, Verbatim):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, str):
        if _YAML_PLAIN.fullmatch(value) and value.lower() not in _YAML_WORDS:
            return value
        return yaml_quote(value)
    raise TemplateError(f"cannot emit a {type(value).__name__} as a YAML scalar; use |to_yaml or a loop")


def escape_dollars(text: str) -> str:
    """``$`` → ``$$``: the literal dollar of Compose and Grafana interpolation (``$VAR``,
    ``${VAR}``) and of Kubernetes ``$(VAR)`` expansion in command, args and env values."""
    return text.replace("$", "$$")


def dollar_yaml_scalar(value: Any) -> str:
    if isinstance(value, str) and not isinstance(value, Verbatim):
        value = escape_dollars(value)
    return yaml_scalar(value)


# Valid in JSON strings, but YAML readers treat them as line breaks or strip them.
_JSON_RISKY = re.compile("[\x85\u2028\u2029\ufeff]")


def json_literal(value: Any, indent: int | None = None) -> Verbatim:
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    return Verbatim(_JSON_RISKY.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def json_scalar(value: Any) -> str:
    return value if isinstance(value, Verbatim) else json_literal(value)


_WORD = re.compile(r"^[A-Za-z0-9_./:@+=,%-]+$")


def conf_scalar(value: Any) -> str:
    """redis.conf arguments: bare when safe, else a quoted string (sdssplitargs rules)."""
    if isinstance(value, Verbatim):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return _number(value)
    text = str(value)
    if _WORD.fullmatch(text):
        return text
    escaped = "".join(
        "\\" + c if c in '"\\' else c if 0x20 <= ord(c) < 0x7F else "".join(f"\\x{b:02x}" for b in c.encode())
        for c in text
    )
    return f'"{escaped}"'


def dockerfile_scalar(value: Any) -> str:
    if isinstance(value, Verbatim):
        return value
    if isinstance(value, bool) or value is None:
        raise TemplateError(f"cannot emit {value!r} in a Dockerfile without |json")
    if isinstance(value, (int, float)):
        return _number(value)
    text = str(value)
    if not _WORD.fullmatch(text):
        raise TemplateError(f"value {text!r} is not a plain word; quote it in the Dockerfile template with |json")
    return text


def dockerfile_quote(value: Any) -> Verbatim:
    """A double-quoted Dockerfile word (LABEL, ENV): ``\\``, ``"`` and ``$`` escaped, so
    the builder's variable substitution leaves the value exactly as given."""
    text = str(value)
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in text):
        raise TemplateError(f"cannot put a control character or line break in a Dockerfile value: {text!r}")
    return Verbatim('"' + re.sub(r'(["\\$])', r"\\\1", text) + '"')


def _one_line(value: Any, where: str) -> str:
    text = value if isinstance(value, str) else _number(value) if isinstance(value, (int, float)) else str(value)
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in text):
        raise TemplateError(f"cannot put a control character or line break in {where}: {text!r}")
    return text


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#!~])")


def markdown_scalar(value: Any) -> str:
    """Markdown prose: one line, every character Markdown or HTML could read as markup
    escaped with a backslash, so a value never opens a link, tag, table cell or heading."""
    if isinstance(value, Verbatim):
        return value
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _one_line(value, "Markdown"))


def _fence(text: str, shortest: int) -> str:
    """A run of backticks longer than any in ``text``: a Markdown fence it cannot close."""
    return "`" * max(shortest, max((len(run) for run in re.findall("`+", text)), default=0) + 1)


def markdown_code(value: Any) -> Verbatim:
    """An inline code span holding exactly ``value``, fenced by more backticks than it has in a row."""
    text = _one_line(value, "a Markdown code span")
    fence = _fence(text, 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Verbatim(f"{fence}{pad}{text}{pad}{fence}")


def markdown_fenced(value: Any, language: str = "") -> Verbatim:
    """A fenced code block holding ``value`` (several lines allowed), fenced by more
    backticks than any run inside it, so no line of it can close the block."""
    text = str(value).rstrip("\n")
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") and c != "\n" for c in text):
        raise TemplateError(f"cannot put a control character in a Markdown code block: {text!r}")
    fence = _fence(text, 3)
    return Verbatim(f"{fence}{language}\n{text}\n{fence}")


def shell_word(value: Any) -> Verbatim:
    """One POSIX shell word that the shell reads back as exactly ``value``."""
    return Verbatim(shlex.quote(_one_line(value, "a shell word")))


def mermaid_scalar(value: Any) -> str:
    """Text inside a quoted Mermaid label: ``"`` and the entity and markup characters
    become entity codes, so a value never closes the label or adds a node or edge."""
    if isinstance(value, Verbatim):
        return value
    return "".join(f"#{ord(c)};" if c in '"#&<>;' else c for c in _one_line(value, "a Mermaid label"))


def text_scalar(value: Any) -> str:
    return value if isinstance(value, str) else _number(value) if isinstance(value, (int, float)) else str(value)


def _strict(finalize: Callable[[Any], str]) -> Callable[[Any], str]:
    def checked(value: Any) -> str:
        if isinstance(value, jinja2.Undefined):
            str(value)  # StrictUndefined raises UndefinedError naming the variable
        return finalize(value)

    return checked


_FINALIZE: dict[str, Callable[[Any], str]] = {
    "yaml": yaml_scalar,
    "dollar-yaml": dollar_yaml_scalar,
    "json": json_scalar,
    "conf": conf_scalar,
    "dockerfile": dockerfile_scalar,
    "text": text_scalar,
    "markdown": markdown_scalar,
    "mermaid": mermaid_scalar,
}


# -- filters -------------------------------------------------------------------------------


def _identity(text: str) -> str:
    return text


def _to_yaml(value: Any, indent: int = 0, *, escape: Callable[[str], str] = _identity) -> Verbatim:
    """Block YAML for a nested structure; every scalar goes through :func:`yaml_scalar`
    after the syntax's ``escape`` (``$`` → ``$$`` for compose)."""
    pad = " " * indent
    lines: list[str] = []

    def scalar(item: Any) -> str:
        if isinstance(item, dict):
            return "{}"
        if isinstance(item, list):
            return "[]"
        return yaml_scalar(escape(item) if isinstance(item, str) and not isinstance(item, Verbatim) else item)

    def emit(node: Any, prefix: str, depth: str) -> None:
        if isinstance(node, dict) and node:
            for index, (key, item) in enumerate(node.items()):
                lead = prefix if index == 0 else depth
                key_text = yaml_scalar(str(key))
                if isinstance(item, (dict, list)) and item:
                    lines.append(f"{lead}{key_text}:")
                    emit(item, depth + "  ", depth + "  ")
                elif isinstance(item, str) and "\n" in item:
                    lines.append(f"{lead}{key_text}: {block_literal(item, len(depth) + 2, escape=escape)}")
                else:
                    lines.append(f"{lead}{key_text}: {scalar(item)}")
        elif isinstance(node, list) and node:
            for index, item in enumerate(node):
                lead = prefix if index == 0 else depth
                if isinstance(item, (dict, list)) and item:
                    emit(item, lead + "- ", depth + "  ")
                else:
                    lines.append(f"{lead}- {scalar(item)}")
        else:
            lines.append(prefix + scalar(node))

    emit(value, pad, pad)
    return Verbatim("\n".join(lines))


def block_literal(text: str, indent: int, *, escape: Callable[[str], str] = _identity) -> Verbatim:
    """A ``|`` block scalar at ``indent`` when the text survives one exactly, else a
    quoted scalar. Blocks keep multi-line PromQL and config files readable."""
    if not isinstance(text, str):
        return Verbatim(yaml_scalar(text))
    text = escape(text)
    if "\n" not in text.rstrip("\n") or not _block_safe(text):
        return Verbatim(yaml_scalar(text))
    pad = " " * indent
    body = text[:-1] if text.endswith("\n") else text
    lines = [pad + line if line else "" for line in body.split("\n")]
    return Verbatim(("|" if text.endswith("\n") else "|-") + "\n" + "\n".join(lines))


def _block_safe(text: str) -> bool:
    if text.endswith("\n\n") or text.startswith((" ", "\n")) or "\r" in text or "\t" in text:
        return False
    if any(line != line.rstrip(" ") for line in text.split("\n")):
        return False
    return _YAML_UNSAFE.search(text.replace("\n", "")) is None


def _cpus(cpu: str) -> str:
    """Kubernetes CPU quantity → Compose ``cpus`` decimal string ("500m" → "0.5")."""
    millis = cpu_millis(cpu)
    return f"{millis // 1000}" if millis % 1000 == 0 else f"{millis / 1000:g}"


def _compose_memory(memory: str) -> str:
    """Kubernetes memory quantity → Compose byte string ("4Gi" → "4g")."""
    amount = memory_bytes(memory)
    for suffix, size in (("g", 2**30), ("m", 2**20), ("k", 2**10)):
        if amount % size == 0:
            return f"{amount // size}{suffix}"
    return f"{amount}b"


def _flow_list(values: Any, escape: Callable[[str], str]) -> Verbatim:
    if any(isinstance(v, (dict, list)) for v in values):
        raise TemplateError("flow_list takes scalars only; use to_yaml for nested data")
    return Verbatim("[" + ", ".join(_to_yaml(v, escape=escape) for v in values) + "]")


def filters_for(syntax: str) -> dict[str, Callable[..., Any]]:
    """The filters of one syntax. In compose, everything that emits text escapes ``$``
    (Compose interpolates the whole file), so no filter can bypass the escape."""
    escape = escape_dollars if syntax == "dollar-yaml" else _identity
    return {
        "verbatim": Verbatim,
        "json": lambda value, indent=None: Verbatim(escape(json_literal(value, indent))),
        "to_yaml": lambda value, indent=0: _to_yaml(value, indent, escape=escape),
        "flow_list": lambda values: _flow_list(values, escape),
        "block": lambda text, indent: block_literal(text, indent, escape=escape),
        "k8s_escape": escape_dollars,
        "k8s_escape_all": lambda words: [escape_dollars(w) for w in words],
        "sha256": lambda text, length=64: hashlib.sha256(str(text).encode("utf-8")).hexdigest()[:length],
        "dq": dockerfile_quote,
        "cpus": _cpus,
        "code": markdown_code,
        "fenced": markdown_fenced,
        "mermaid_id": lambda name: Verbatim("n_" + re.sub(r"[^A-Za-z0-9]", "_", str(name))),
        "sh": shell_word,
        "shjoin": lambda words: Verbatim(" ".join(shell_word(w) for w in words)),
        "compose_memory": _compose_memory,
        "regex_literal": lambda value: regex_literal(str(value)),  # a relabel regex matching exactly value
    }


# -- rendering -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    text: str
    template: str


class _CurrentLoader(jinja2.FileSystemLoader):
    """A search-path loader whose compiled templates stay in use only while they are
    what the search path gives now: the same file, with the same text. An engine lives
    as long as the process (one per search path), so a template edited, added to an
    override folder or removed between two renders is read afresh rather than served
    from the cache of an earlier render (Jinja's own check compares mtimes only)."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        source, filename, _ = super().get_source(environment, template)

        def uptodate() -> bool:
            try:
                now, now_filename, _ = jinja2.FileSystemLoader.get_source(self, environment, template)
            except jinja2.TemplateNotFound:
                return False
            return now_filename == filename and now == source

        return source, filename, uptodate


class Engine:
    """One sandboxed environment per syntax, sharing a loader and its template cache.

    ``templates`` is one folder or a search path: a template is taken from the first
    folder that has it, so an override folder placed first replaces single files of the
    bundled set. Messages name a bundled template ``templates/<name>`` and any other by
    its folder.
    """

    def __init__(self, templates: Path | Sequence[Path], *, bundled: Path | None = None):
        folders = [templates] if isinstance(templates, (str, Path)) else list(templates)
        self.search_path = tuple(Path(f).resolve() for f in folders)
        self.templates_dir = self.search_path[-1]
        self._bundled = Path(bundled).resolve() if bundled is not None else self.templates_dir
        self._loader = _CurrentLoader([str(f) for f in self.search_path], followlinks=False)
        self._envs = {syntax: self._environment(syntax) for syntax in SYNTAXES}
        self._traced: dict[str, ImmutableSandboxedEnvironment] = {}

    def shown(self, name: str) -> str:
        """How messages name template ``name``: by the folder it is read from."""
        for folder in self.search_path:
            if (folder / name).is_file():
                return f"templates/{name}" if folder == self._bundled else str(folder / name)
        return f"templates/{name}"

    def _environment(self, syntax: str) -> ImmutableSandboxedEnvironment:
        env = ImmutableSandboxedEnvironment(
            loader=self._loader,
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
            finalize=_strict(_FINALIZE[syntax]),
            auto_reload=True,  # asks _CurrentLoader whether each cached template is current
        )
        env.filters.update(filters_for(syntax))
        env.globals.pop("lipsum", None)
        return env

    def render(self, template: str, syntax: str, context: dict[str, Any]) -> Rendered:
        env = self._envs[syntax]
        try:
            compiled = env.get_template(template)
            return Rendered(compiled.render(context), template)
        except TemplateError as exc:
            raise TemplateError(exc.message, self._location_of_failure(template)) from None
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"template syntax error: {exc.message}", Location(self.shown(exc.name or template), exc.lineno or 0)) from None
        except jinja2.TemplateNotFound as exc:
            raise TemplateError(f"template not found: {exc.name}") from None
        except (jinja2.UndefinedError, jinja2.exceptions.SecurityError, TypeError, ValueError, ArithmeticError) as exc:
            raise TemplateError(f"{type(exc).__name__}: {exc}", self._location_of_failure(template)) from None

    def render_string(self, source: str, syntax: str, context: dict[str, Any]) -> Rendered:
        return Rendered(self._envs[syntax].from_string(source).render(context), "<string>")

    def origins(self, template: str, syntax: str, context: dict[str, Any]) -> list[tuple[str, int]]:
        """For each output line, the template (file, line) that produced it.

        Used only after a rendered artefact fails to parse, to blame the template line:
        it renders once more with a marker before every literal newline of every
        template, then reads the markers back. A line with no marker of its own (inside
        a multi-line expression) belongs to the next marked line.
        """
        if syntax not in self._traced:
            env = self._environment(syntax)
            env.add_extension(_LineMarks)
            self._traced[syntax] = env
        text = self._traced[syntax].get_template(template).render(context)
        origins: list[tuple[str, int]] = []
        pending = 0
        for line in text.split("\n"):
            mark = _MARK.search(line)
            if mark is None:
                pending += 1
                continue
            origin = (self.shown(mark.group(2)), int(mark.group(1)))
            origins.extend([origin] * (pending + 1))
            pending = 0
        origins.extend([(self.shown(template), 0)] * pending)
        return origins

    def _location_of_failure(self, template: str) -> Location:
        # Jinja rewrites tracebacks so template frames carry the template's file name
        # and line; the innermost such frame is where rendering failed.
        roots = [str(folder) + "/" for folder in self.search_path]
        tb = sys.exc_info()[2]
        where = Location(self.shown(template))
        while tb is not None:
            filename = tb.tb_frame.f_code.co_filename
            root = next((r for r in roots if filename.startswith(r)), None)
            if root is not None:
                where = Location(self.shown(filename[len(root):]), tb.tb_lineno)
            tb = tb.tb_next
        return where


_MARK = re.compile("\x00(\\d+):([^\x00]*)\x00")


class _LineMarks(jinja2.ext.Extension):
    """Appends ``NUL line:template NUL`` before each literal newline of a template."""

    def filter_stream(self, stream: jinja2.lexer.TokenStream) -> Iterator[jinja2.lexer.Token]:
        for token in stream:
            if token.type != "data" or "\n" not in token.value:
                yield token
                continue
            pieces = token.value.split("\n")
            marked = "".join(
                f"{piece}\x00{token.lineno + index}:{stream.name}\x00\n" for index, piece in enumerate(pieces[:-1])
            )
            yield jinja2.lexer.Token(token.lineno, "data", marked + pieces[-1])
