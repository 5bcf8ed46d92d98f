"""`infra schema` is a draft 2020-12 JSON Schema that accepts the default config, refuses the bad
inputs a schema can express, accepts the variants infra accepts, and documents no key the
README's configuration reference leaves out."""

import json
import os
import re
import subprocess

import jsonschema
import pytest
import yaml

from support import ROOT
from test_network import BAD_INPUTS

DEFAULT = os.path.join(ROOT, "src", "config", "default.yaml")

# Bad inputs of test_network that no schema can refuse: not YAML at all, or rules across fields.
SCHEMA_CANNOT_EXPRESS = {"yaml syntax", "subnet outside vpc", "overlapping subnets"}

# More refusals a schema can express: types, enums, ranges, patterns (from -> to in the default).
SCHEMA_BAD_INPUTS = {
    "port not a number": ("node_port: 30080", "node_port: eighty"),
    "port outside NodePort range": ("node_port: 30080", "node_port: 8080"),
    "nat not a mode": ("nat: single", "nat: sideways"),
    "zones not a list": ("  zones:\n", "  zones: us-east-1a\n  old_zones:\n"),
    "zone key missing": ("      private_data: 10.0.5.0/24\n", ""),
    "cidr prefix too small": ("vpc_cidr: 10.0.0.0/16", "vpc_cidr: 10.0.0.0/8"),
    "tag value not a string": ("project: grpc-eks", "project: [grpc-eks]"),
    "reserved tag key": ("project: grpc-eks", "infra:owner: me"),
    "keep_images zero": ("keep_images: 10", "keep_images: 0"),
    "scan_on_push not a bool": ("scan_on_push: true", "scan_on_push: sometimes"),
    "tag mutability lower case": ("image_tag_mutability: IMMUTABLE", "image_tag_mutability: immutable"),
    "endpoint not a mode": ("endpoint: public-and-private", "endpoint: open"),
    "public cidr not a cidr": ("public_access_cidrs: [0.0.0.0/0]", "public_access_cidrs: [everyone]"),
    "no public cidrs": ("public_access_cidrs: [0.0.0.0/0]", "public_access_cidrs: []"),
    "log type unknown": ("logging: [api, audit, authenticator]", "logging: [api, everything]"),
    "root volume too small": ("size_gib: 20", "size_gib: 8"),
    "kms key not an arn": ("kms_key_arn: null", "kms_key_arn: my-key"),
    "build timeout too short": ("timeout_minutes: 30", "timeout_minutes: 3"),
    "secret not a reference": ("secrets: {}", "secrets: {API_TOKEN: hunter2}"),
    "secret name not a variable": ("secrets: {}", "secrets: {api-token: ssm:/x}"),
    "retention not one CloudWatch takes": ("retention_days: 30", "retention_days: 31"),
    "eks version not a version": ("upgrade_policy: standard", 'version: "latest"'),
    "upgrade policy not one EKS has": ("upgrade_policy: standard", "upgrade_policy: forever"),
    "no instance types": ("instance_types: [t3.medium]", "instance_types: []"),
    "scaling key missing": ("    desired: 1\n", ""),
    "repository not https": ("repository_url: https://", "repository_url: http://"),
    "stack upper case": ("stack: grpc-eks", "stack: Grpc-eks"),
    "region not a region": ("region: us-east-1", "region: useast1"),
}

# Configs infra accepts: the schema must accept them too.
GOOD_INPUTS = {
    "per-az nat": ("nat: single", "nat: per-az"),
    "no nat": ("nat: single", "nat: none"),
    "leading zero octet": ("vpc_cidr: 10.0.0.0/16", "vpc_cidr: 010.0.0.0/16"),
    "certificate": ("certificate_arn: null",
                    "certificate_arn: arn:aws:acm:us-east-1:123456789012:certificate/0c9a6bd3-8c0e-4c7c-9d0f-3f6f1b6e2a41"),
    "quoted eks version": ("upgrade_policy: standard", 'version: "1.34"'),
    "unquoted eks version": ("upgrade_policy: standard", "version: 1.34"),
    "extended support": ("upgrade_policy: standard", "upgrade_policy: extended"),
    "no tags": ("tags:\n  project: grpc-eks\n", ""),
    "private endpoint": ("endpoint: public-and-private", "endpoint: private"),
    "narrowed endpoint": ("public_access_cidrs: [0.0.0.0/0]", "public_access_cidrs: [203.0.113.0/24, 198.51.100.7/32]"),
    "no control-plane logs": ("logging: [api, audit, authenticator]", "logging: []"),
    "own kms key": ("kms_key_arn: null", "kms_key_arn: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
    "secrets by reference": ("secrets: {}", "secrets: {API_TOKEN: ssm:/grpc/token, DB: 'secretsmanager:grpc/db:password'}"),
    "mutable tags": ("image_tag_mutability: IMMUTABLE", "image_tag_mutability: MUTABLE"),
    "codecommit": ("repository_url: https://github.com/your-org/grpc-eks.git",
                   "repository_url: https://git-codecommit.us-east-1.amazonaws.com/v1/repos/x"),
}


def run_infra(*args, cwd=ROOT):
    binary = os.environ.get("INFRA_BIN", os.path.join(ROOT, "target", "debug", "infra"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL="http://127.0.0.1:9", AWS_EC2_METADATA_DISABLED="true")
    return subprocess.run([binary, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60)


@pytest.fixture(scope="module")
def schema():
    r = run_infra("schema")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    jsonschema.Draft202012Validator.check_schema(s)
    return s


@pytest.fixture(scope="module")
def default_text():
    with open(DEFAULT) as f:
        return f.read()


def errors(schema, text):
    return list(jsonschema.Draft202012Validator(schema).iter_errors(yaml.safe_load(text)))


def variant(default_text, old, new):
    assert old in default_text, old
    return default_text.replace(old, new, 1)


def infra_accepts(text, tmp_path):
    """infra's own verdict, from `infra graph` (validates the config, needs no AWS)."""
    path = tmp_path / "candidate.yaml"
    path.write_text(text)
    r = run_infra("graph", "--config", str(path))
    assert r.returncode == 0 or "not a valid infra config" in r.stderr, r.stderr
    return r.returncode == 0


def test_schema_is_draft_2020_12_and_accepts_the_default(schema, default_text):
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert errors(schema, default_text) == []
    # What `infra init` writes is the same config.
    assert errors(schema, yaml.safe_dump(yaml.safe_load(default_text))) == []


@pytest.mark.parametrize("case", sorted(set(BAD_INPUTS) - SCHEMA_CANNOT_EXPRESS))
def test_schema_refuses_the_bad_inputs_infra_refuses(schema, default_text, case):
    (old, new), _ = BAD_INPUTS[case]
    assert errors(schema, variant(default_text, old, new)), case


@pytest.mark.parametrize("case", sorted(SCHEMA_BAD_INPUTS))
def test_schema_refuses_bad_types_and_values(schema, default_text, tmp_path, case):
    text = variant(default_text, *SCHEMA_BAD_INPUTS[case])
    assert errors(schema, text), case
    assert not infra_accepts(text, tmp_path), f"infra accepts what the schema refuses: {case}"


@pytest.mark.parametrize("case", sorted(GOOD_INPUTS))
def test_schema_is_never_stricter_than_infra(schema, default_text, tmp_path, case):
    text = variant(default_text, *GOOD_INPUTS[case])
    assert infra_accepts(text, tmp_path), case
    assert errors(schema, text) == [], case


def key_paths(schema):
    """Dotted paths of every key a user can write; arrays of objects as `x[]` and `x[].y`."""
    defs = schema.get("$defs", {})

    def resolve(s):
        return defs[s["$ref"].rsplit("/", 1)[-1]] if "$ref" in s else s

    def walk(prefix, s):
        s = resolve(s)
        for key, sub in s.get("properties", {}).items():
            path = f"{prefix}{key}"
            sub = resolve(sub)
            items = resolve(sub.get("items", {}))
            if "properties" in sub:
                yield from walk(path + ".", sub)
            elif "properties" in items:
                yield path + "[]"
                yield from walk(path + "[].", items)
            else:
                yield path

    return set(walk("", schema))


def readme_config_keys():
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    section = readme.split("## Configuration reference", 1)[1].split("\n## ", 1)[0]
    keys = set()
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        # A row may list siblings: `eks.scaling.min` / `.desired` / `.max`.
        names = re.findall(r"`([^`]+)`", line.split("|")[1])
        base = ""
        for name in names:
            if name.startswith("."):
                keys.add(base + name[1:])
            else:
                keys.add(name)
                base = name.rsplit(".", 1)[0] + "." if "." in name else ""
    return keys


def test_every_schema_key_is_in_the_readme_configuration_reference(schema):
    documented = readme_config_keys()
    assert documented, "no table found under README's Configuration reference"
    undocumented = sorted(p for p in key_paths(schema)
                          if p not in documented and p + "[]" not in documented)
    assert undocumented == [], f"keys missing from README's configuration reference: {undocumented}"
    unknown = sorted(k for k in documented
                     if k not in key_paths(schema) and k.removesuffix("[]") not in key_paths(schema))
    assert unknown == [], f"README documents keys infra does not have: {unknown}"
