"""Strict YAML reading: what is refused, what is read, and where everything is."""

from __future__ import annotations

import time

import pytest
from ruamel.yaml.error import ReusedAnchorWarning

from vitalyst_render.errors import Location
from vitalyst_render.yamlsource import (
    MAX_NODES,
    DeferredPositions,
    Positions,
    YamlSourceError,
    decode_utf8,
    load_rendered,
    load_rendered_stream,
    load_yaml,
    load_yaml_stream,
)


def refused(text: str, **kwargs) -> YamlSourceError:
    with pytest.raises(YamlSourceError) as info:
        load_yaml(text, "f.yaml", **kwargs)
    return info.value


def alias_bomb(levels: int = 9, fanout: int = 9) -> str:
    """The billion laughs: each level lists the previous one ``fanout`` times."""
    names = [f"l{i}" for i in range(levels)]
    lines = [f"{names[0]}: &{names[0]} [{', '.join(['lol'] * fanout)}]"]
    for prev, name in zip(names, names[1:]):
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * fanout)}]")
    return "\n".join(lines) + "\n"


# -- refusals ----------------------------------------------------------------------------


def test_duplicate_key_refused_at_the_second_key():
    error = refused("a: 1\nb:\n  c: 2\n  c: 3\n")
    assert (error.message, error.line, error.col) == ("duplicate key 'c'; it is set first at line 3", 4, 3)


def test_duplicate_key_refused_even_when_spelled_as_a_number():
    error = refused("8000: a\n8000: b\n")
    assert (error.message, error.line, error.col) == ("duplicate key '8000'; it is set first at line 1", 2, 1)


@pytest.mark.parametrize(
    ("text", "tag", "col"),
    [
        ("a: !!python/object:os.system {}\n", "tag:yaml.org,2002:python/object:os.system", 4),
        ("a: !!python/name:os.system ''\n", "tag:yaml.org,2002:python/name:os.system", 4),
        ("a: !foo bar\n", "!foo", 4),
        ("a: !!binary aGk=\n", "tag:yaml.org,2002:binary", 4),
        ("a: !!set {x, y}\n", "tag:yaml.org,2002:set", 4),
    ],
)
def test_non_core_tags_refused(text, tag, col):
    error = refused(text)
    assert error.message == f"YAML tag {tag!r} is not allowed; only the core schema's tags are"
    assert (error.line, error.col) == (1, col)


def test_non_core_tag_on_a_key_refused():
    error = refused("!foo key: 1\n")
    assert "'!foo' is not allowed" in error.message
    assert (error.line, error.col) == (1, 1)


def test_core_tags_accepted():
    data, _ = load_yaml("a: !!str 123\nb: !!int '42'\nc: !!float '1'\n", "f.yaml")
    assert data == {"a": "123", "b": 42, "c": 1.0}


def test_multiple_documents_refused_at_the_second():
    error = refused("a: 1\n---\nb: 2\n")
    assert (error.message, error.line, error.col) == ("expected a single YAML document, found several", 3, 1)


def test_single_document_with_markers_accepted():
    data, _ = load_yaml("---\na: 1\n...\n", "f.yaml")
    assert data == {"a": 1}


def test_alias_bomb_refused_quickly():
    started = time.perf_counter()
    error = refused(alias_bomb())
    elapsed = time.perf_counter() - started
    assert error.message == "document expands to more than 100000 nodes through aliases"
    assert error.line == 1
    assert elapsed < 5, f"took {elapsed:.1f}s"


def test_node_bound_is_configurable_and_counts_alias_expansions():
    text = "a: &x [1]\nb: *x\n"  # root, a, a[0], b, b[0]: five nodes
    assert load_yaml(text, "f.yaml", max_nodes=5)[0] == {"a": [1], "b": [1]}
    assert refused(text, max_nodes=4).message == "document expands to more than 4 nodes through aliases"


def test_malformed_yaml_is_positioned_at_what_to_fix():
    # The parser notices at the end of the file; the mistake is the '[' nothing closes.
    error = refused("a: [1\n")
    assert error.message == "invalid YAML: the '[' here is never closed: add ']', or a ',' between its items"
    assert (error.line, error.col) == (1, 4)


def test_complex_key_refused():
    error = refused("? [a]\n: b\n")
    assert (error.message, error.line, error.col) == ("mapping keys must be plain scalars", 1, 3)


def test_merge_of_a_scalar_refused():
    error = refused("<<: 1\n")
    assert error.message == "a merge key (<<) needs a mapping or a list of mappings"


# -- what is read ------------------------------------------------------------------------


def test_merge_key_fills_in_without_overriding_explicit_keys():
    data, _ = load_yaml("base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3\n", "f.yaml")
    assert data["c"] == {"x": 1, "y": 3}
    assert data["base"] == {"x": 1, "y": 2}


def test_merge_key_list_first_source_wins():
    data, _ = load_yaml("a: &a {x: 1}\nb: &b {x: 2, z: 3}\nc:\n  <<: [*a, *b]\n  w: 0\n", "f.yaml")
    assert data["c"] == {"w": 0, "x": 1, "z": 3}


def test_explicit_key_after_merge_keeps_its_own_value_position():
    data, positions = load_yaml("base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3\n", "f.yaml")
    assert data["c"]["y"] == 3
    assert positions.key(("c", "y")) == Location("f.yaml", 4, 3)
    assert positions.value(("c", "y")) == Location("f.yaml", 4, 6)


def test_merged_key_position_matches_the_source_that_won():
    data, positions = load_yaml("a: &a {x: 1}\nb: &b {x: 2}\nc:\n  <<: [*a, *b]\n", "f.yaml")
    assert data["c"]["x"] == 1
    assert positions.value(("c", "x")) == Location("f.yaml", 1, 11)
    assert positions.key(("c", "x")) == Location("f.yaml", 1, 8)


@pytest.mark.parametrize(
    ("scalar", "value"),
    [
        ("0o17", 15),
        ("017", 17),  # YAML 1.2: a leading zero is not octal
        ("0x1f", 31),
        ("-0x1f", "-0x1f"),  # the core schema has no signed hex
        ("1_000", "1_000"),  # underscores are YAML 1.1 only
        ("1e3", 1000.0),
        ("yes", "yes"),  # YAML 1.1 booleans stay strings
        ("no", "no"),
        ("on", "on"),
        ("true", True),
        ("False", False),
        ("~", None),
        ("null", None),
        ("12:30", "12:30"),  # no sexagesimal numbers
        ("'42'", "42"),
    ],
)
def test_yaml_1_2_scalars(scalar, value):
    data, _ = load_yaml(f"k: {scalar}\n", "f.yaml")
    assert data["k"] == value
    assert type(data["k"]) is type(value)


def test_non_string_keys_become_their_spelling():
    data, _ = load_yaml("8000: a\ntrue: b\n", "f.yaml")
    assert data == {"8000": "a", "true": "b"}


def test_empty_document_reads_as_none():
    data, positions = load_yaml("", "f.yaml")
    assert data is None
    assert positions.value(()) == Location("f.yaml", 1, 1)


# -- decoding ------------------------------------------------------------------------------


def test_decode_strips_a_bom():
    assert decode_utf8(b"\xef\xbb\xbfa: 1\n") == "a: 1\n"
    assert load_yaml(decode_utf8(b"\xef\xbb\xbfa: 1\n"), "f.yaml")[0] == {"a": 1}


def test_decode_keeps_valid_utf8():
    assert decode_utf8("é: 😀\n".encode()) == "é: 😀\n"


@pytest.mark.parametrize(
    ("raw", "line", "col", "byte"),
    [
        (b"\xff", 1, 1, 0xFF),
        (b"a: 1\nb: caf\xe9\n", 2, 7, 0xE9),
        (b"a: 1\r\nb\xff\n", 2, 2, 0xFF),
        (b"a: 1\n\xc3\xa9: x\n\xfe", 3, 1, 0xFE),
        (b"\xef\xbb\xbfab\xff\n", 1, 3, 0xFF),  # the BOM is not a column
    ],
)
def test_decode_error_position(raw, line, col, byte):
    with pytest.raises(YamlSourceError) as info:
        decode_utf8(raw)
    error = info.value
    assert error.message == f"file is not valid UTF-8 (byte 0x{byte:02x} cannot start a character here)"
    assert (error.line, error.col) == (line, col)


def test_decode_error_column_counts_characters():
    with pytest.raises(YamlSourceError) as info:
        decode_utf8(b"name: caf\xc3\xa9\xff\n")  # "name: café" is 10 characters, 11 bytes
    assert (info.value.line, info.value.col) == (1, 11)


# -- positions -----------------------------------------------------------------------------


def test_positions_of_keys_and_values_are_one_based():
    text = "a: x\nb:\n  c: [1, 2]\n  d:\n    - e: f\n"
    data, positions = load_yaml(text, "f.yaml")
    assert data == {"a": "x", "b": {"c": [1, 2], "d": [{"e": "f"}]}}
    loc = lambda line, col: Location("f.yaml", line, col)  # noqa: E731
    assert positions.key(("a",)) == loc(1, 1)
    assert positions.value(("a",)) == loc(1, 4)
    assert positions.key(("b",)) == loc(2, 1)
    assert positions.value(("b",)) == loc(3, 3)
    assert positions.key(("b", "c")) == loc(3, 3)
    assert positions.value(("b", "c")) == loc(3, 6)
    assert positions.value(("b", "c", 0)) == loc(3, 7)
    assert positions.value(("b", "c", 1)) == loc(3, 10)
    assert positions.value(("b", "d", 0)) == loc(5, 7)
    assert positions.key(("b", "d", 0, "e")) == loc(5, 7)
    assert positions.value(("b", "d", 0, "e")) == loc(5, 10)


def test_positions_after_crlf_line_ends():
    _, positions = load_yaml("a: 1\r\nb: 2\r\n", "f.yaml")
    assert positions.value(("b",)) == Location("f.yaml", 2, 4)


def test_value_falls_back_to_nearest_ancestor():
    _, positions = load_yaml("a: x\nb:\n  c: 1\n", "f.yaml")
    assert positions.value(("b", "missing", "deeper", 3)) == positions.value(("b",)) == Location("f.yaml", 3, 3)
    assert positions.value(("nowhere",)) == positions.value(()) == Location("f.yaml", 1, 1)


def test_key_falls_back_to_value():
    _, positions = load_yaml("a:\n  - x\n", "f.yaml")
    assert positions.key(("a", 0)) == positions.value(("a", 0)) == Location("f.yaml", 2, 5)


def test_value_of_empty_positions_is_the_file_start():
    assert Positions("x.yaml").value(("a", "b")) == Location("x.yaml", 1, 1)


def test_overlaid_prefers_the_other_file():
    _, parent = load_yaml("a: 1\nb:\n  c: 2\n  d: 3\n", "parent.yaml")
    _, child = load_yaml("b:\n  c: 5\n", "child.yaml")
    merged = parent.overlaid(child)
    assert merged.file == "child.yaml"
    assert merged.value(("b", "c")) == Location("child.yaml", 2, 6)
    assert merged.key(("b", "c")) == Location("child.yaml", 2, 3)
    assert merged.value(("b", "d")) == Location("parent.yaml", 4, 6)
    assert merged.value(("a",)) == Location("parent.yaml", 1, 4)
    # neither input changes
    assert parent.value(("b", "c")) == Location("parent.yaml", 3, 6)
    assert child.value(("b", "d")) == Location("child.yaml", 2, 3)


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("depth", [65, 900, 100_000])
def test_nesting_deeper_than_the_bound_is_refused_where_it_goes_too_deep(fast, depth):
    error = refused("x: " + "[" * depth + "]" * depth + "\n", fast=fast)
    assert (error.message, error.line, error.col) == ("nesting deeper than 64 levels", 1, 68)


@pytest.mark.parametrize("fast", [False, True])
def test_an_anchor_set_twice_is_libyamls_error_and_a_warning_of_the_pure_reader(fast):
    text = "a: &x 1\nb: &x 2\nc: *x\n"
    if fast:
        assert (refused(text, fast=True).line, refused(text, fast=True).col) == (2, 4)
    else:
        with pytest.warns(ReusedAnchorWarning, match="found duplicate anchor 'x'"):
            assert load_yaml(text, "f.yaml")[0] == {"a": 1, "b": 2, "c": 2}


# -- rendered artefacts ----------------------------------------------------------------------


def test_a_rendered_file_larger_than_the_node_bound_parses_and_an_alias_bomb_still_does_not():
    # A render of a thousand services is one compose file of far more than MAX_NODES nodes.
    big = "services:\n" + "".join(f"  s{i}:\n    ports: [{i}, {i + 1}]\n" for i in range(60_000))
    data, _ = load_rendered(big, "compose.yml")
    assert len(data["services"]) == 60_000
    with pytest.raises(YamlSourceError, match="through aliases"):
        load_rendered(alias_bomb(), "bomb.yml")


RENDERED = [
    "a: 1\nb:\n  - {c: 1.50}\n  - [x, y]\n---\nd: x\ne: {f: [1, {g: h}]}\n",
    "base: &b {x: 1, y: {z: 2}}\nc:\n  <<: *b\n  y: 3\nd: *b\n",  # a merge key and an alias
    "- &s [1, 2]\n- *s\n- {8000: a, true: b}\n",
]


@pytest.mark.parametrize("text", RENDERED)
def test_rendered_positions_are_found_when_first_asked_for_and_match_an_eager_parse(text):
    documents = load_rendered_stream(text, "f.yaml")
    eager = load_yaml_stream(text, "f.yaml", fast=True)
    assert [d for d, _ in documents] == [d for d, _ in eager]
    assert all(isinstance(p, DeferredPositions) for _, p in documents)
    assert documents[0][1]._placer.roots is None  # nothing composed before a position is asked for
    for (_, deferred), (_, positions) in zip(documents, eager):
        asked = [*positions.values, *positions.keys, ("nowhere",), ("b", 7), ("b", 0, "c", "deeper"), ("a", 0), ()]
        assert [deferred.value(path) for path in asked] == [positions.value(path) for path in asked]
        assert [deferred.key(path) for path in asked] == [positions.key(path) for path in asked]
        assert (deferred.values, deferred.keys, deferred.spelling) == (positions.values, positions.keys, positions.spelling)


def test_a_rendered_file_that_does_not_parse_fails_as_an_eager_parse_does():
    text = "a: 1\nb: 2\na: 3\n"
    with pytest.raises(YamlSourceError) as eager:
        load_yaml_stream(text, "f.yaml", fast=True)
    with pytest.raises(YamlSourceError) as rendered:
        load_rendered(text, "f.yaml")
    assert (rendered.value.message, rendered.value.line, rendered.value.col) == (eager.value.message, eager.value.line, eager.value.col)
    assert "it is set first at line 1" in rendered.value.message


TRICKY = ["a: &x 1\nb: &x 2\nc: *x\n", "a: *y\n", "a: &r [*r]\n", "? [1]\n: 2\n", "*x : 1\n", "a: 1\na: 2\n", "x: !!omap []\n",
          "a: &a {x: 1}\nb: &b {x: 2, z: 3}\nc:\n  <<: [*a, *b]\n  w: 0\n", "x: &a [1, 2]\ny: {<<: *a}\n", "%YAML 1.1\n---\na: yes\n",
          "a: 1\n---\nb: [2, {c: ~}]\n", "", "---\n", "- - - 1\n", "k: !!str 123\nb: !!int '42'\nc: !!float '1'\n", "8000: a\ntrue: b\n",
          "a: [1, 2\n", "a: 'x\n", "{a: 1, b: [x, {c: d}]}\n", "a: 1.50\nb: .inf\nc: 0x1F\nd: ~\ne: 0o17\n", "? a\n? b\n",
          "a: &k key\n*k : v\n", "x: " + "[" * 70 + "]" * 70 + "\n", "a: " + "9" * 101 + "\n", "a: <<\n", "!!str a: b\n", "a: !!map {b: 1}\n",
          "- !foo x\n", "a: ! 12\n", "<<: {a: 1}\n"]


@pytest.mark.parametrize("text", TRICKY)
def test_a_rendered_file_reads_as_the_node_graph_reads_it(text):
    # Read straight from the events, or handed to the composer and builder when unusual:
    # the data, or the refusal, is the same.
    try:
        expected = [data for data, _ in load_yaml_stream(text, "f.yaml", max_nodes=MAX_NODES + len(text), fast=True)]
    except YamlSourceError as refusal:
        with pytest.raises(YamlSourceError) as rendered:
            load_rendered_stream(text, "f.yaml")
        assert (rendered.value.message, rendered.value.line, rendered.value.col) == (refusal.message, refusal.line, refusal.col)
    else:
        assert [data for data, _ in load_rendered_stream(text, "f.yaml")] == expected


def test_every_rendered_file_of_a_profile_reads_as_the_node_graph_reads_it():
    import vitalyst_render as vr

    rendering = vr.render(vr.load_profile("prod"))
    for artefact in rendering.artefacts.values():
        if artefact.parse_as in ("yaml", "yaml-stream"):
            text = artefact.text
            assert [d for d, _ in load_rendered_stream(text, artefact.path)] == [
                d for d, _ in load_yaml_stream(text, artefact.path, max_nodes=MAX_NODES + len(text), fast=True)], artefact.path


def test_an_ordinary_rendered_file_is_read_without_a_node_graph(monkeypatch):
    from vitalyst_render import yamlsource

    def no_graph(*args, **kwargs):
        raise AssertionError("composed a node graph")

    monkeypatch.setattr(yamlsource, "_compose_all", no_graph)
    assert [d for d, _ in load_rendered_stream("a: [1, {b: c}]\n---\nd: 2\n", "f.yaml")] == [{"a": [1, {"b": "c"}]}, {"d": 2}]
    with pytest.raises(AssertionError, match="node graph"):
        load_rendered_stream("a: &x 1\nb: *x\n", "f.yaml")  # an alias: the composer's to read
