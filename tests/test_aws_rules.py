"""src/config/aws_rules.yaml against the botocore models pinned in the venv: every limit, pattern
and enum the config checker applies is AWS's own, and cannot drift from it unnoticed.

    $(scripts/python-env) -m pytest -q tests/test_aws_rules.py -p no:cacheprovider
"""

import re
import string
from pathlib import Path

import pytest
import yaml
from botocore.loaders import create_loader

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "src" / "config"
DOC = yaml.safe_load((CONFIG / "aws_rules.yaml").read_text())
RULES = DOC["rules"]
LOADER = create_loader()
FIELDS = {"check", "service", "shape", "member", "says", "min", "max", "pattern", "chars",
          "first", "last", "grammar", "not_prefix", "values", "values_file", "usable", "url",
          "source", "note"}


def shapes(service):
    return LOADER.load_service_model(service, "service-2")["shapes"]


def ids(rules):
    return [f"{r['check']}/{r['service']}" for r in rules]


def python_class(body):
    """A model character class body as Python's re reads it over ASCII: \\p{L} is the letters,
    \\p{N} the digits, \\p{Z} the space (the only ASCII separator)."""
    return (body.replace(r"\p{L}", "a-zA-Z").replace(r"\p{N}", "0-9")
            .replace(r"\p{Z}", " "))


def python_pattern(pattern):
    return re.sub(r"\[([^\]]*(?:\\\][^\]]*)*)\]", lambda m: "[" + python_class(m.group(1)) + "]",
                  pattern)


def test_every_entry_has_a_source_and_known_fields():
    for r in RULES:
        assert set(r) <= FIELDS, (r["check"], set(r) - FIELDS)
        assert r.get("source"), r
        assert r.get("shape") or r.get("member") or r.get("url"), r


MODELLED = [r for r in RULES if "shape" in r]


@pytest.mark.parametrize("rule", MODELLED, ids=ids(MODELLED))
def test_limits_patterns_and_enums_are_the_models(rule):
    shape = shapes(rule["service"])[rule["shape"]]
    assert rule.get("min") == shape.get("min"), "min"
    assert rule.get("max") == shape.get("max"), "max"
    assert rule.get("pattern") == shape.get("pattern"), "pattern"
    enum = shape.get("enum")
    if "values" in rule:
        assert rule["values"] == enum
    elif "values_file" in rule:
        lines = (CONFIG / rule["values_file"]).read_text().splitlines()
        listed = [l for l in lines if l and not l.startswith("#")]
        assert listed == sorted(enum), "run scripts/aws-rules to regenerate " + rule["values_file"]
    else:
        assert enum is None, "the model has an enum the rule does not list"
    assert set(rule.get("usable", [])) <= set(enum or [])


WITH_MEMBER = [r for r in RULES if "member" in r]


@pytest.mark.parametrize("rule", WITH_MEMBER, ids=ids(WITH_MEMBER))
def test_members_use_the_shape_and_say_the_quoted_rule(rule):
    struct, member = rule["member"].split(".")
    m = shapes(rule["service"])[struct]["members"][member]
    if "shape" in rule:
        assert m["shape"] == rule["shape"]
    if "says" in rule:
        assert rule["says"] in m.get("documentation", "")


WITH_CHARS = [r for r in RULES if "chars" in r and "pattern" in r]


@pytest.mark.parametrize("rule", WITH_CHARS, ids=ids(WITH_CHARS))
def test_chars_admit_the_ascii_the_pattern_admits(rule):
    """The checker applies `chars` (and `first`, `last`); over printable ASCII they must accept
    exactly what the model's pattern accepts, in the middle, at the start and at the end."""
    pattern = re.compile(python_pattern(rule["pattern"]), re.ASCII)
    cls = lambda body: re.compile("[" + python_class(body) + "]", re.ASCII)
    middle, first, last = (cls(rule["chars"]), cls(rule.get("first", rule["chars"])),
                           cls(rule.get("last", rule["chars"])))
    for c in string.printable[:95]:
        assert bool(pattern.fullmatch("a" + c + "a")) == bool(middle.fullmatch(c)), repr(c)
        assert bool(pattern.fullmatch(c + "aa")) == bool(
            first.fullmatch(c) and middle.fullmatch(c)), repr(c)
        assert bool(pattern.fullmatch("aa" + c)) == bool(
            last.fullmatch(c) and middle.fullmatch(c)), repr(c)


def test_every_instance_type_follows_the_grammar():
    (rule,) = [r for r in RULES if r["check"] == "instance_type"]
    grammar = re.compile(rule["grammar"])
    enum = shapes("ec2")["InstanceType"]["enum"]
    assert [t for t in enum if not grammar.fullmatch(t)] == []
    for bad in ["banana.huge", "t3medium", "t3.", ".medium", "T3.medium", "t3.mediumm"]:
        assert not grammar.fullmatch(bad), bad


def test_the_stricter_rules_are_the_ones_validation_names():
    """What the README and the schema state: tag keys 127, values 255, 50 tags per resource."""
    def strictest(check, key):
        return min(r[key] for r in RULES if r["check"] == check and key in r)
    assert strictest("tag_key", "max") == 127
    assert strictest("tag_value", "max") == 255
    assert strictest("tags_per_resource", "max") == 50


def test_partitions_match_botocore():
    mapping = DOC["partitions"]
    def partition(region):
        return next((p["partition"] for p in mapping if region.startswith(p["prefix"])), "aws")
    data = LOADER.load_data("partitions")["partitions"]
    for p in data:
        for region in p["regions"]:
            if not region.endswith("-global"):
                assert partition(region) == p["id"], region
    prefixes = [p["prefix"] for p in mapping]
    for i, a in enumerate(prefixes):
        assert not any(a.startswith(b) for b in prefixes[:i]), f"{a} is shadowed"
