"""Issue 15, class 1: Redis ACL rules in a profile are parsed, and only command, category,
key, channel and selector rules load. A rule that lets a user in without its secret's
password, puts a password in the profile or changes the user the render writes is bad
input: exit 2, one line at the rule's file:line:col, naming the rule and what is allowed."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from vitalyst_render.profile.acl import ALLOWED, AclRuleError, parse_acl_rules
from vitalyst_render.profile.types import AclRules

from .test_refused_profiles import at, refused  # noqa: F401  (refused is a fixture)

EXPECTED = f"expected ACL rules of commands, keys and channels ({ALLOWED})"


def overlay(rules: str, user: str = "app") -> str:
    return f"extends: prod\nservices:\n  redis:\n    users:\n      {user}: '{rules}'\n"


@pytest.mark.parametrize(("rules", "got"), [
    ("~* +@all nopass", "got 'nopass', which lets any password log in as this user"),
    ("+ping >hunter2", "got '>…', which puts a password in the profile; passwords live in the user's secret, as hashes"),
    ("+ping resetpass", "got 'resetpass', which removes the password from the user's secret"),
    ("off +ping", "got 'off', which would turn the user off; remove the user instead"),
])
def test_a_rule_that_changes_who_logs_in_is_refused_through_the_cli(refused, rules, got):  # noqa: F811
    text = overlay(rules)
    line = refused(text)
    assert line == f"child.yaml:{at(text, repr(rules))}: services.redis.users.app: {EXPECTED}; {got}"
    assert "hunter2" not in line  # a password never reaches the message


REFUSED = [
    ("nopass", "got 'nopass', which lets any password log in as this user"),
    ("NOPASS", "got 'NOPASS', which lets any password log in as this user"),
    (">pw", "got '>…', which puts a password in the profile; passwords live in the user's secret, as hashes"),
    ("<pw", "got '<…', which names a password in the profile; passwords live in the user's secret, as hashes"),
    ("#" + "a" * 64, "got '#…', which puts a password hash in the profile; passwords live in the user's secret, as hashes"),
    ("!" + "a" * 64, "got '!…', which names a password hash in the profile; passwords live in the user's secret, as hashes"),
    ("on", "got 'on', which is written by the render: every user is on"),
    ("reset", "got 'reset', which would wipe the user the render sets up"),
    ("~* resetkeys ~a", "got 'resetkeys', which undoes the key rules before it; write only the key rules the user keeps"),
    ("resetchannels", "got 'resetchannels', which undoes the channel rules before it; write only the channel rules the user keeps"),
    ("clearselectors", "got 'clearselectors', which undoes the selectors before it; write only the selectors the user keeps"),
    ("skip-sanitize-payload", "got 'skip-sanitize-payload', which would let RESTORE load payloads unchecked"),
    ("+@nosuch", "got '+@nosuch', which names no Redis 7 category (the categories: admin, all, bitmap, blocking, connection, "
                 "dangerous, fast, geo, hash, hyperloglog, keyspace, list, pubsub, read, scripting, set, slow, sortedset, "
                 "stream, string, transaction, write)"),
    ("+get;", "got '+get;', which is not a command name (+cmd or +cmd|sub) or a category (+@category)"),
    ("user", "got 'user', which is not a rule our model allows"),
    ("~", "got '~', which has no pattern"),
    ("%X~a", "got '%X~a', which has key permissions other than R, W or RW"),
    ("%~a", "got '%~a', which has key permissions other than R, W or RW"),
    ('~"a', "got '~\"a', which holds a quote, read as quoting in the ACL file"),
    ("~a)", "got '~a)', which holds a parenthesis, read as a selector in the ACL file"),
    ("(~a +get", "got the selector '(~a +get' without its closing ')'"),
    ("()", "got an empty selector '()', which grants nothing"),
    ("(~a (+get))", "got the selector '(~a (+get))' with a parenthesis inside; selectors do not nest"),
    ("(~a nopass)", "got 'nopass', which lets any password log in as this user"),
    ("~caché", "got '~caché', which holds characters other than printable ASCII"),
]


@pytest.mark.parametrize(("rules", "got"), REFUSED, ids=[r for r, _ in REFUSED])
def test_refused_rules_name_the_rule_and_why(rules, got):
    with pytest.raises(AclRuleError) as caught:
        parse_acl_rules(rules)
    assert str(caught.value) == got
    with pytest.raises(ValidationError) as invalid:
        TypeAdapter(AclRules).validate_python(rules)
    assert invalid.value.errors()[0]["msg"] == f"{EXPECTED}; {got}"


ACCEPTED = [
    ("+ping", ("+ping",)),
    ("~* &* +@all -@dangerous -function|flush", ("~*", "&*", "+@all", "-@dangerous", "-function|flush")),
    ("allkeys allchannels allcommands", ("allkeys", "allchannels", "allcommands")),
    ("nocommands +get +@READ ALLKEYS", ("nocommands", "+get", "+@READ", "ALLKEYS")),
    ("%R~read:* %W~write:* %RW~both:* %wr~x", ("%R~read:*", "%W~write:*", "%RW~both:*", "%wr~x")),
    ("+ping  (~queue:* +@list) ( %R~s:* +get )", ("+ping", "(~queue:* +@list)", "(%R~s:* +get)")),
    ("+select|0 +client|list +json.get", ("+select|0", "+client|list", "+json.get")),
]


@pytest.mark.parametrize(("rules", "parsed"), ACCEPTED, ids=[r for r, _ in ACCEPTED])
def test_command_key_channel_and_selector_rules_load(rules, parsed):
    assert parse_acl_rules(rules) == parsed
    assert TypeAdapter(AclRules).validate_python(rules) == rules  # kept as written


def test_shipped_rules_load_unchanged():
    from vitalyst_render import load_profile

    for name in ("dev", "staging", "prod"):
        for service in load_profile(name).profile.services.values():
            for rules in getattr(service, "users", {}).values():
                assert parse_acl_rules(rules)


@pytest.mark.parametrize("rules", ["(+get(x >Hunter2secret)", "~* (>Hunter2secret", "(+get #Hunter2secret)"])
def test_a_refused_selector_never_quotes_its_password(rules):
    with pytest.raises(AclRuleError) as caught:
        parse_acl_rules(rules)
    assert "Hunter2secret" not in str(caught.value), caught.value
