"""Sandboxed rendering: per-syntax quoting, filters, the sandbox, and line origins."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from vitalyst_render.engine import (
    Engine,
    Verbatim,
    dollar_yaml_scalar,
    conf_scalar,
    dockerfile_scalar,
    json_literal,
    yaml_quote,
    yaml_scalar,
)
from vitalyst_render.errors import Location, TemplateError

SAFE_YAML = YAML(typ="safe", pure=True)


def read_yaml(text: str):
    return SAFE_YAML.load(text)


@pytest.fixture
def templates(tmp_path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    return folder


@pytest.fixture
def engine(templates) -> Engine:
    return Engine(templates)


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


# -- yaml_quote ------------------------------------------------------------------------------

TRICKY = [
    "line\nbreak",
    "crlf\r\n",
    'say "hi"',
    "single 'quotes'",
    "back\\slash\\",
    "key: value",
    "# not a comment",
    "- not a list",
    "  leading spaces",
    "trailing spaces  ",
    "tab\there",
    "\u2028line separator",
    "\u2029paragraph separator",
    "next\x85line",
    "\ufeffbom",
    "emoji 😀 \U0010ffff",
    "controls \x01\x07\x08\x0b\x0c\x1b\x7f\x9f",
    "nul \x00",
    "",
    "true",
    "null",
    "~",
    "1e3",
    "0o17",
    "yes",
    "*alias",
    "&anchor",
    "!tag",
    "{flow: map}",
    "[flow, seq]",
    "%directive",
    "@reserved",
    "`reserved",
    "---",
    "...",
    "|",
    ">",
    "\\u0041 not an escape",
]


@pytest.mark.parametrize("text", TRICKY, ids=repr)
def test_yaml_quote_round_trips(text):
    quoted = yaml_quote(text)
    assert quoted.startswith('"') and quoted.endswith('"')
    assert "\n" not in quoted and "\r" not in quoted
    assert read_yaml(f"k: {quoted}\n") == {"k": text}


@pytest.mark.parametrize("char", ["\x85", "\u2028", "\u2029", "\ufeff", "\x00", "\x1b", "\x7f"], ids=repr)
def test_yaml_quote_escapes_characters_readers_may_eat(char):
    assert char not in yaml_quote(f"a{char}b")


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00")))
def test_yaml_quote_round_trips_any_text(text):
    assert read_yaml(f"k: {yaml_quote(text)}\n") == {"k": text}


YAML_1_1_WORDS = ["yes", "No", "ON", "off", "y", "n", "Y", "true", "False", "null", "NULL", "~", "", "1e3", "0o17",
                  "012", "0x1f", "1_000", "1:20", ".inf", "-.Inf", ".nan", "2001-12-14", "<<", "=", "-", "a: b", "#x"]


@pytest.mark.parametrize("text", YAML_1_1_WORDS + ["plain", "/health", "a_b.c-d", "NaN", "Infinity"], ids=repr)
def test_yaml_scalar_reads_back_as_the_same_string_in_yaml_1_1_and_1_2(text):
    yaml_1_1 = pytest.importorskip("yaml")  # PyYAML implements YAML 1.1
    emitted = yaml_scalar(text)
    assert read_yaml(f"k: {emitted}\n") == {"k": text}
    assert yaml_1_1.safe_load(f"k: {emitted}\n") == {"k": text}


def test_yaml_scalar_keeps_a_trailing_newline_inside_the_scalar():
    emitted = yaml_scalar("plain\n")
    assert "\n" not in emitted
    assert read_yaml(f"k: {emitted}\nafter: 1\n") == {"k": "plain\n", "after": 1}


def test_conf_scalar_quotes_a_trailing_newline():
    assert conf_scalar("word\n") == '"word\\x0a"'


def test_dockerfile_scalar_refuses_a_trailing_newline():
    with pytest.raises(TemplateError):
        dockerfile_scalar("word\n")


@pytest.mark.parametrize("text", YAML_1_1_WORDS, ids=repr)
def test_yaml_scalar_quotes_words_a_reader_would_retype(text):
    assert yaml_scalar(text).startswith('"')


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00")))
def test_yaml_scalar_round_trips_any_text(text):
    assert read_yaml(f"k: {yaml_scalar(text)}\n") == {"k": text}


def test_yaml_scalar_kinds():
    assert yaml_scalar(None) == "null"
    assert yaml_scalar(True) == "true"
    assert yaml_scalar(3) == "3"
    assert yaml_scalar(0.5) == "0.5"
    assert yaml_scalar("3") == '"3"'
    assert yaml_scalar(Verbatim("raw: text")) == "raw: text"
    with pytest.raises(TemplateError):
        yaml_scalar(float("nan"))
    with pytest.raises(TemplateError):
        yaml_scalar({"a": 1})


# -- finalize per syntax -----------------------------------------------------------------------


def test_yaml_finalize_quotes_strings(engine):
    context = {"v": "a: b\n- c", "n": 8000, "b": False, "z": None}
    text = engine.render_string("key: {{ v }}\nn: {{ n }}\nb: {{ b }}\nz: {{ z }}\n", "yaml", context).text
    assert text == 'key: "a: b\\n- c"\nn: 8000\nb: false\nz: null\n'
    assert read_yaml(text) == {"key": "a: b\n- c", "n": 8000, "b": False, "z": None}


def test_compose_finalize_doubles_dollars(engine):
    text = engine.render_string("x: {{ v }}", "dollar-yaml", {"v": "a$b ${HOME} $$"}).text
    assert text == 'x: "a$$b $${HOME} $$$$"'
    assert dollar_yaml_scalar("$") == '"$$"'


def test_compose_finalize_leaves_verbatim_and_numbers(engine):
    text = engine.render_string("x: {{ v|verbatim }} {{ n }}", "dollar-yaml", {"v": "${KEEP}", "n": 5}).text
    assert text == "x: ${KEEP} 5"


def test_yaml_finalize_does_not_double_dollars(engine):
    assert engine.render_string("x: {{ v }}", "yaml", {"v": "a$b"}).text == 'x: "a$b"'


def test_json_finalize_emits_literals(engine):
    text = engine.render_string('{"a": {{ s }}, "b": {{ n }}, "c": {{ l }}}', "json",
                                {"s": 'q"\n', "n": 1, "l": [1, "x", None]}).text
    assert text == '{"a": "q\\"\\n", "b": 1, "c": [1, "x", null]}'


@pytest.mark.parametrize("word", ["plain", "redis-server", "/data", "0.0.0.0:6379", "a_b.c", "x=1,y=2", "50%", "a+b@c"])
def test_conf_scalar_leaves_plain_words(word):
    assert conf_scalar(word) == word


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("two words", '"two words"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("", '""'),
        ("line\nbreak", '"line\\x0abreak"'),
        ("café", '"caf\\xc3\\xa9"'),
        ("it's", '"it\'s"'),
    ],
)
def test_conf_scalar_quotes_everything_else(value, quoted):
    assert conf_scalar(value) == quoted


def test_conf_scalar_non_strings():
    assert conf_scalar(True) == "yes"
    assert conf_scalar(False) == "no"
    assert conf_scalar(6379) == "6379"
    assert conf_scalar(Verbatim("a b")) == "a b"


def test_dockerfile_scalar_passes_words_and_numbers():
    assert dockerfile_scalar("python") == "python"
    assert dockerfile_scalar("3.12-slim") == "3.12-slim"
    assert dockerfile_scalar(10001) == "10001"
    assert dockerfile_scalar(Verbatim('["a b"]')) == '["a b"]'


@pytest.mark.parametrize("value", ["two words", "a;rm -rf /", "$HOME", "x\ny", "", "'q'", True, None])
def test_dockerfile_scalar_refuses_non_words(value):
    with pytest.raises(TemplateError):
        dockerfile_scalar(value)


def test_dockerfile_render_refuses_non_words(engine):
    with pytest.raises(TemplateError, match="not a plain word"):
        engine.render_string("RUN echo {{ v }}", "dockerfile", {"v": "a b"})


# -- filters ------------------------------------------------------------------------------------


def test_json_filter_returns_verbatim():
    literal = json_literal(["a b", 1])
    assert isinstance(literal, Verbatim)
    assert literal == '["a b", 1]'


@pytest.mark.parametrize("syntax", ["yaml", "dollar-yaml", "json", "conf", "dockerfile", "text"])
def test_json_filter_passes_through_every_syntax(engine, syntax):
    text = engine.render_string("CMD {{ v|json }}", syntax, {"v": ["node", "dist/server.js", "a b"]}).text
    assert text == 'CMD ["node", "dist/server.js", "a b"]'


def test_json_filter_in_yaml_round_trips_nel(engine):
    text = engine.render_string("k: {{ v|json }}\n", "yaml", {"v": "a\x85b"}).text
    assert read_yaml(text) == {"k": "a\x85b"}


NESTED = {
    "name": "a: b",
    "list": [1, "two", None, True, 0.5, {"k": "v", "e": []}, [3, "- x"], {}],
    "empty_map": {},
    "empty_list": [],
    "nested": {"deep": {"deeper": "# hash", "n": "\n"}},
    "tricky": ["", "true", "null", "1e3", "\u2028", "\x85", "'", '"'],
    "blocks": {"script": "echo one\necho two\n", "query": "sum(rate(x[5m]))\n  by (job)", "ragged": " a\n\tb  \n\n"},
}


def test_to_yaml_parses_back(engine):
    text = engine.render_string("{{ d|to_yaml }}\n", "yaml", {"d": NESTED}).text
    assert read_yaml(text) == NESTED


def test_to_yaml_writes_multi_line_text_as_blocks(engine):
    text = engine.render_string("{{ d|to_yaml }}\n", "yaml", {"d": NESTED}).text
    assert "script: |\n" in text
    assert "query: |-\n" in text


def test_to_yaml_indent_nests_under_a_key(engine):
    text = engine.render_string("root:\n{{ d|to_yaml(2) }}\nafter: 1\n", "yaml", {"d": NESTED}).text
    assert read_yaml(text) == {"root": NESTED, "after": 1}


def test_to_yaml_of_a_list_and_a_scalar(engine):
    assert read_yaml(engine.render_string("{{ d|to_yaml }}", "yaml", {"d": [{"a": 1}, [2]]}).text) == [{"a": 1}, [2]]
    assert read_yaml(engine.render_string("{{ d|to_yaml }}", "yaml", {"d": "x"}).text) == "x"


@pytest.fixture(scope="module")
def engine_for_hypothesis(tmp_path_factory) -> Engine:
    return Engine(tmp_path_factory.mktemp("templates"))


_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(
    st.characters(exclude_categories=("Cs",))
)
_TREES = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, database=None)
@given(_TREES)
def test_to_yaml_round_trips_any_tree(engine_for_hypothesis, tree):
    text = engine_for_hypothesis.render_string("{{ d|to_yaml }}\n", "yaml", {"d": tree}).text
    assert read_yaml(text) == tree
    nested = engine_for_hypothesis.render_string("root:\n{{ d|to_yaml(2) }}\nafter: 1\n", "yaml", {"d": tree}).text
    assert read_yaml(nested) == {"root": tree, "after": 1}


def test_flow_list(engine):
    text = engine.render_string("l: {{ v|flow_list }}", "yaml", {"v": ["a, b", 1, None]}).text
    assert read_yaml(text) == {"l": ["a, b", 1, None]}


def test_quantity_filters(engine):
    source = "{{ '500m'|cpus }} {{ '2'|cpus }} {{ '4Gi'|compose_memory }} {{ '512Mi'|compose_memory }} "
    text = engine.render_string(source, "text", {}).text
    assert text == "0.5 2 4g 512m "


# -- the sandbox -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ v.__init__.__globals__ }}",
        "{% set _ = l.append(1) %}{{ l }}",
        "{{ d.update({'a': 1}) }}",
    ],
)
def test_sandbox_blocks_unsafe_access(engine, source):
    with pytest.raises(jinja2.exceptions.SecurityError):
        engine.render_string(source, "text", {"v": Location("x"), "l": [], "d": {}})


def test_sandbox_error_is_a_template_error_through_render(engine, templates):
    write(templates, "evil.txt", "{{ ''.__class__.__mro__ }}\n")
    with pytest.raises(TemplateError, match="SecurityError"):
        engine.render("evil.txt", "text", {})


def test_lipsum_is_not_available(engine):
    with pytest.raises(jinja2.exceptions.UndefinedError, match="lipsum"):
        engine.render_string("{{ lipsum() }}", "text", {})


def test_no_environment_or_clock_globals(engine):
    for name in ("lipsum", "os", "environ", "now", "random", "time"):
        with pytest.raises(jinja2.exceptions.UndefinedError):
            engine.render_string(f"{{{{ {name} }}}}", "text", {})


@pytest.mark.parametrize("syntax", ["text", "conf", "dockerfile"])
def test_undefined_variable_raises_naming_it(engine, syntax):
    with pytest.raises(jinja2.exceptions.UndefinedError, match="'missing' is undefined"):
        engine.render_string("x {{ missing }}", syntax, {})


@pytest.mark.parametrize("syntax", ["yaml", "dollar-yaml", "json", "text", "conf", "dockerfile"])
def test_undefined_variable_raises_in_every_syntax(engine, syntax):
    with pytest.raises((jinja2.exceptions.UndefinedError, TemplateError, TypeError)):
        engine.render_string("x {{ missing }}", syntax, {})
    with pytest.raises(jinja2.exceptions.UndefinedError):
        engine.render_string("{% for x in missing %}{% endfor %}", syntax, {})


@pytest.mark.parametrize("syntax", ["yaml", "json"])
def test_undefined_variable_named_in_yaml_and_json(engine, templates, syntax):
    write(templates, "t.txt", "x: {{ missing }}\n")
    with pytest.raises(TemplateError, match="missing"):
        engine.render("t.txt", syntax, {})


# -- file templates and errors -----------------------------------------------------------------


def test_render_file_template(engine, templates):
    write(templates, "svc.yaml", "name: {{ name }}\n{% for p in ports %}\n- {{ p }}\n{% endfor %}\n")
    rendered = engine.render("svc.yaml", "yaml", {"name": "x y", "ports": [80, 443]})
    assert rendered.template == "svc.yaml"
    assert rendered.text == 'name: "x y"\n- 80\n- 443\n'


def test_template_not_found(engine):
    with pytest.raises(TemplateError, match="template not found: nope.yaml"):
        engine.render("nope.yaml", "yaml", {})


def test_template_syntax_error_is_placed(engine, templates):
    write(templates, "broken.yaml", "a: 1\nb: {{ oops\n")
    with pytest.raises(TemplateError) as info:
        engine.render("broken.yaml", "yaml", {})
    assert info.value.location == Location("templates/broken.yaml", 2)
    assert info.value.message.startswith("template syntax error: ")


def test_render_error_names_the_template_line(engine, templates):
    write(templates, "Dockerfile", "FROM scratch\n\nRUN echo {{ v }}\n")
    with pytest.raises(TemplateError) as info:
        engine.render("Dockerfile", "dockerfile", {"v": "a b"})
    assert info.value.location == Location("templates/Dockerfile", 3)


def test_render_error_names_the_template_file(engine, templates):
    write(templates, "Dockerfile", "FROM scratch\n\nRUN echo {{ v }}\n")
    with pytest.raises(TemplateError) as info:
        engine.render("Dockerfile", "dockerfile", {"v": "a b"})
    assert info.value.location is not None
    assert info.value.location.file == "templates/Dockerfile"
    assert "not a plain word" in info.value.message


# -- origins ----------------------------------------------------------------------------------


def test_origins_through_a_loop_and_an_include(engine, templates):
    write(
        templates,
        "main.yaml",
        "head: 1\n"  # 1
        "{% for x in xs %}\n"  # 2
        "item: {{ x }}\n"  # 3
        "{% endfor %}\n"  # 4
        '{% include "part.yaml" %}\n'  # 5
        "tail: {{ t }}\n",  # 6
    )
    write(templates, "part.yaml", "part1: a\npart2: {{ t }}\n")
    context = {"xs": ["a", "b", "c"], "t": "z"}

    text = engine.render("main.yaml", "yaml", context).text
    lines = text.split("\n")
    assert [line.split(":")[0] for line in lines] == ["head", "item", "item", "item", "part1", "part2", "tail", ""]

    origins = engine.origins("main.yaml", "yaml", context)
    assert len(origins) == len(lines)
    assert origins[:7] == [
        ("templates/main.yaml", 1),
        ("templates/main.yaml", 3),
        ("templates/main.yaml", 3),
        ("templates/main.yaml", 3),
        ("templates/part.yaml", 1),
        ("templates/part.yaml", 2),
        ("templates/main.yaml", 6),
    ]


def test_origins_do_not_change_normal_rendering(engine, templates):
    write(templates, "a.yaml", "a: {{ v }}\nb: 2\n")
    before = engine.render("a.yaml", "yaml", {"v": 1}).text
    engine.origins("a.yaml", "yaml", {"v": 1})
    assert engine.render("a.yaml", "yaml", {"v": 1}).text == before == "a: 1\nb: 2\n"


def test_origins_of_a_multi_line_value_belong_to_its_line(engine, templates):
    write(templates, "m.txt", "first\n{{ v }}\nlast\n")
    origins = engine.origins("m.txt", "text", {"v": "x\ny\nz"})
    assert origins[:5] == [
        ("templates/m.txt", 1),
        ("templates/m.txt", 2),
        ("templates/m.txt", 2),
        ("templates/m.txt", 2),
        ("templates/m.txt", 3),
    ]
