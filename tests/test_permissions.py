"""README's permissions table against the AWS operations src/ can actually call.

A policy written from the table must let every call through, and the table must not ask for
actions nothing needs any more. So both directions are checked: every SDK operation called in
src/ is listed, and every listed action is either called or named in the section's prose as
needed without a direct call (PassRole, service-linked roles).

Operation names come from botocore's service models (the same Smithy models the Rust SDK is
generated from), snake-cased the way the Rust SDK names its fluent builders, so a call site
`aws.ec2.describe_vpcs()` maps to `ec2:DescribeVpcs` without a hand-kept table.
"""

import re
import sys
from functools import lru_cache
from pathlib import Path

import botocore.loaders
import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
README = ROOT / "README.md"
CARGO_TOML = ROOT / "Cargo.toml"

# Rust SDK crate (aws_sdk_<crate>) -> (botocore model name, IAM action prefix). The three names
# differ for ELBv2 and CloudWatch Logs. A crate added to Cargo.toml but missing here fails
# test_every_sdk_dependency_is_mapped rather than being silently ignored.
CRATES = {
    "ec2": ("ec2", "ec2"),
    "iam": ("iam", "iam"),
    "eks": ("eks", "eks"),
    "elasticloadbalancingv2": ("elbv2", "elasticloadbalancing"),
    "autoscaling": ("autoscaling", "autoscaling"),
    "ecr": ("ecr", "ecr"),
    "codebuild": ("codebuild", "codebuild"),
    "sts": ("sts", "sts"),
    "cloudwatchlogs": ("logs", "logs"),
    "dynamodb": ("dynamodb", "dynamodb"),
    "pricing": ("pricing", "pricing"),
    "acm": ("acm", "acm"),
}
# Crates aws-config pulls in for SSO logins; infra never calls them itself.
NOT_CALLED_BY_INFRA = {"sso", "ssooidc"}

# What the scanner must find however src/ is refactored: if these go missing the scanner is
# broken (or the stack lost a resource), and a scanner finding nothing would pass everything.
MUST_FIND = {
    "ec2:CreateVpc", "ec2:DescribeSubnets", "ec2:CreateTags",
    "iam:CreateRole", "iam:GetRole", "iam:PutRolePolicy",
    "eks:CreateCluster", "eks:CreateNodegroup", "eks:TagResource",
    "elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:AddTags",
    "autoscaling:AttachTrafficSources",
    "ecr:CreateRepository", "ecr:TagResource",
    "codebuild:CreateProject", "codebuild:StartBuild",
    "sts:GetCallerIdentity",
    "logs:CreateLogGroup", "logs:TagResource",
    "dynamodb:PutItem", "dynamodb:DeleteItem",
}


# --- the Rust SDK's operation names -------------------------------------------------------

# smithy-rs keeps these as single words whatever their casing (`Ipv6`, `IPv6`, `MiB`, ...).
_WHOLE_WORDS = ("ipv4", "ipv6", "sigv4", "mib", "gib", "kib", "ttl")


def snake(name):
    """The Rust SDK's method name for operation `name`: smithy-rs's word splitting, where an
    acronym ends before the capital that starts the next word (`DBInstance` -> `db_instance`)
    but a plural acronym stays whole (`ARNs` -> `arns`). Checked against every operation of
    the SDK crates in ~/.cargo by test_snake_case_matches_the_sdk_crates."""
    words, cur = [], ""
    all_lower = name.lower() == name
    for i, c in enumerate(name):
        peek = name[i + 1] if i + 1 < len(name) else None
        peek2 = name[i + 2] if i + 2 < len(name) else None
        whole_word_running = (any((cur + name[i:]).lower().startswith(w) for w in _WHOLE_WORDS)
                              and cur.lower() not in _WHOLE_WORDS)
        ends_acronym = (cur[-1:].isupper() and c.isupper() and peek is not None and peek.islower()
                        and not (peek == "s" and (peek2 is None or not peek2.islower()))
                        and not (peek == "v" and peek2 is not None and peek2.isdigit()))
        if not c.isalnum():
            boundary, keep = True, False
        elif not cur:
            boundary, keep = False, True
        elif not whole_word_running and c.isupper() and (cur[-1].islower() or cur[-1].isdigit()):
            boundary, keep = True, True
        elif not whole_word_running and all_lower and cur[-1].isdigit() and c.islower():
            boundary, keep = True, True
        else:
            boundary, keep = ends_acronym, True
        if boundary:
            if cur:
                words.append(cur.lower())
            cur = c if keep else ""
        else:
            cur += c
    if cur:
        words.append(cur.lower())
    return "_".join(words)


@lru_cache(maxsize=None)
def operations(model):
    """snake_case method -> operation name, for one botocore service model."""
    ops = botocore.loaders.Loader().load_service_model(model, "service-2")["operations"]
    return {snake(op): op for op in ops}


@lru_cache(maxsize=None)
def all_actions(prefix):
    [model] = [m for m, p in CRATES.values() if p == prefix]
    return set(operations(model).values())


# --- src/: where the SDK is called ---------------------------------------------------------

_STRIP = re.compile(
    r"""
      //[^\n]*                              # line and doc comments
    | /\*(?:[^*]|\*(?!/))*\*/               # block comments (not nested: src/ has none)
    | b?r(?P<h>\#*)"(?:.|\n)*?"(?P=h)       # raw strings
    | b?"(?:\\.|[^"\\])*"                   # strings
    | b?'(?:\\(?:u\{[0-9a-fA-F]+\}|x..|.)|[^'\\\n])'   # char literals (not lifetimes)
    """,
    re.VERBOSE | re.DOTALL,
)


def code_of(text):
    """Rust source with comments and literals blanked, newlines kept for line numbers: a
    `.create_tags()` in a doc comment or an error message is not a call."""
    return _STRIP.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def rust_files():
    return sorted(SRC.rglob("*.rs"))


def client_types(code):
    """Type names that mean an SDK client in this file: `aws_sdk_x::Client`, and whatever a
    `use aws_sdk_x::Client [as Y];` brought in."""
    types = {rf"aws_sdk_{crate}\s*::\s*Client": crate for crate in CRATES}
    for m in re.finditer(r"\buse\s+aws_sdk_(\w+)\s*::\s*Client(?:\s+as\s+(\w+))?\s*;", code):
        types[re.escape(m.group(2) or "Client")] = m.group(1)
    return types


def declared_clients():
    """Names declared with an SDK client type anywhere in src/ (struct fields such as
    `Aws::ec2`, function parameters) -> crates. Global on purpose: a field is reached from any
    file (`cx.aws.ec2`, `snap.aws().eks`)."""
    names = {}
    for path in rust_files():
        code = code_of(path.read_text())
        for ty, crate in client_types(code).items():
            decl = rf"\b(\w+)\s*:\s*&?\s*(?:'\w+\s+)?(?:mut\s+)?(?:{ty})\b"
            for m in re.finditer(decl, code):
                names.setdefault(m.group(1), set()).add(crate)
            for m in re.finditer(rf"\blet\s+(?:mut\s+)?(\w+)\s*=\s*(?:{ty})\s*::", code):
                names.setdefault(m.group(1), set()).add(crate)
    return names


# A method call `.name(` (turbofish allowed).
METHOD = re.compile(r"\.\s*(?P<method>[a-z_][a-z0-9_]*)\s*(?:::\s*<[^>;]*>\s*)?\(")
# `aws_sdk_ec2::Client::describe_vpcs(&client)`: the method called as a path.
PATH_CALL = re.compile(r"\baws_sdk_(?P<crate>\w+)\s*::\s*Client\s*::\s*(?P<method>[a-z_][a-z0-9_]*)\s*\(")
# `.ec2.$call()` inside a macro_rules: the operation is whatever the invocations pass.
MACRO_METHOD = re.compile(r"\.\s*\$(?P<var>\w+)\s*\(")
_WORD_BEFORE = re.compile(r"(\w+)\s*$")

# Receivers that are no client although their method is named like an operation, and the
# scanner cannot tell without types: (file, receiver, method) -> what it is. A stale entry
# fails test_not_a_client_entries_are_current.
NOT_A_CLIENT = {
    ("src/kinds/alb/listener.rs", "r", "query"): "RedirectActionConfig::query(), not DynamoDB Query",
    ("src/kube/client.rs", "u", "query"): "url::Url::query(), not DynamoDB Query",
}


def _back_ws(code, i):
    while i > 0 and code[i - 1].isspace():
        i -= 1
    return i


def _matching(code, open_at):
    """Index of the bracket closing the one at `open_at`."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack = []
    for i in range(open_at, len(code)):
        if code[i] in pairs:
            stack.append(pairs[code[i]])
        elif stack and code[i] == stack[-1]:
            stack.pop()
            if not stack:
                return i
    raise AssertionError(f"unbalanced bracket at {open_at}")


def chain(code, dot):
    """The postfix chain a method call at `dot` (the index of its `.`) is made on, root first:
    `cx.aws.elb.create_load_balancer().name(n)` -> [("cx", False), ("aws", False),
    ("elb", False), ("create_load_balancer", True), ("name", True)]; (name, is a call). The
    root is `("", ...)` when it is no plain name (a parenthesised or literal expression), and
    starts with `::` when it is a path (`VpcConfig::builder()` -> `("::builder", True)`)."""
    segs, i = [], dot
    while True:
        i = _back_ws(code, i)
        if i > 0 and code[i - 1] == "?":
            i -= 1
            continue
        call = i > 0 and code[i - 1] == ")"
        if call:
            depth, j = 0, i - 1
            while j >= 0:
                depth += code[j] == ")"
                depth -= code[j] == "("
                if depth == 0:
                    break
                j -= 1
            i = _back_ws(code, j)
            if i > 1 and code[i - 1] == ">":  # turbofish
                i = _back_ws(code, code.rfind("::", 0, i))
        m = _WORD_BEFORE.search(code, max(0, i - 100), i)
        if not m:
            segs.append(("", call))
            break
        i = _back_ws(code, m.start(1))
        path = code[max(0, i - 2):i] == "::"
        segs.append(("::" * path + m.group(1), call))
        if i > 0 and code[i - 1] == "." and not (i > 1 and code[i - 2] == "."):
            i -= 1
            continue
        break
    return segs[::-1]


def sdk_calls(not_a_client_seen=None):
    """Every SDK operation called in src/: {"prefix:Action": ["file:line", ...]}.

    A call is a method named like an operation of a service, made on that service's client: a
    declared client field or parameter (`aws.ec2.describe_vpcs()`, the builder chain spread
    over lines, `snap.aws().eks.describe_cluster()`), a local bound to one (`let ec2 =
    &cx.aws.ec2;`), either through `.clone()`.

    Methods further along a builder chain (`.set_subnets(..)` on CreateLoadBalancer's builder),
    or on a local holding a builder or a result, are the SDK's setters and getters, not calls.
    A receiver the scanner cannot resolve otherwise (a closure parameter, a client returned by
    a function, ...) is attributed to every service in Cargo.toml with an operation of that
    name: too many actions can only make this test ask for a row that is not needed (the call
    site is named, so the receiver can be made recognisable, or listed in NOT_A_CLIENT), too
    few would let a policy written from the README refuse a call in production.
    """
    fields = declared_clients()
    deps = sdk_dependencies()
    found, macros = {}, {}

    def add(crate, method, where):
        model, prefix = CRATES[crate]
        op = operations(model).get(method)
        if op:
            found.setdefault(f"{prefix}:{op}", []).append(where)

    for path in rust_files():
        code = code_of(path.read_text())
        rel = path.relative_to(ROOT).as_posix()
        line = lambda pos: f"{rel}:{code.count(chr(10), 0, pos) + 1}"  # noqa: E731
        clients, builders = {}, set()  # this file's locals

        def client_of(segs):
            """The crates a chain (clones stripped) ends in a client of, else None."""
            segs = [s for s in segs if s != ("clone", True)]
            if not segs or segs[-1][1]:
                return None
            name = segs[-1][0]
            if len(segs) > 1:
                return fields.get(name)
            return clients.get(name) or fields.get(name)

        def classify(dot):
            """("op", crates) | ("builder", None) | ("unknown", None) for the call at dot."""
            segs = chain(code, dot)
            crates = client_of(segs)
            if crates:
                return "op", crates
            for k in range(1, len(segs)):
                if segs[k][1] and segs[k][0] != "clone" and client_of(segs[:k]):
                    return "builder", None
            if segs and not segs[0][1] and segs[0][0] in builders:
                return "builder", None
            # `VpcConfig::builder().set_subnets(..)`: a shape's builder, never a client.
            if segs and segs[0] == ("::builder", True):
                return "builder", None
            return "unknown", None

        # Locals, in source order: `let ec2 = &cx.aws.ec2;` binds a client, `let req =
        # elb.set_subnets().load_balancer_arn(arn);` a builder (and so does anything made
        # from one, `let send = req.send();`).
        for m in re.finditer(r"\blet\s+(?:mut\s+)?(\w+)\s*(?::[^=;]*)?=\s*&?\s*", code):
            end = code.find(";", m.end())
            rhs_end = _back_ws(code, end)
            segs = chain(code, rhs_end) if end > 0 else []
            crates = client_of(segs)
            if crates:
                clients.setdefault(m.group(1), set()).update(crates)
                continue
            for call in METHOD.finditer(code, m.end(), max(end, m.end())):
                if classify(call.start())[0] in ("op", "builder"):
                    builders.add(m.group(1))
                    break

        # A client's method named by a macro metavariable (`.ec2.$call()`): see below.
        for m in MACRO_METHOD.finditer(code):
            kind, crates = classify(m.start())
            defs = list(re.compile(r"\bmacro_rules!\s*(\w+)").finditer(code, 0, m.start()))
            assert defs, f"{line(m.start())}: a metavariable outside a macro_rules?"
            if kind == "op":
                macros.setdefault(defs[-1].group(1), set()).update(crates)
        for m in PATH_CALL.finditer(code):
            if m.group("crate") in CRATES:
                add(m.group("crate"), m.group("method"), line(m.start("method")))
        for m in METHOD.finditer(code):
            method, where = m.group("method"), line(m.start("method"))
            kind, crates = classify(m.start())
            if kind == "op":
                for crate in crates:
                    add(crate, method, where)
            elif kind == "unknown":
                recv = chain(code, m.start())[-1][0]
                if (rel, recv, method) in NOT_A_CLIENT:
                    if not_a_client_seen is not None:
                        not_a_client_seen.add((rel, recv, method))
                    continue
                for crate in deps:
                    add(crate, method, f"{where} (receiver `{recv}` not recognised)")

    # Any invocation of such a macro, in any file (#[macro_export] ones travel), may pass any
    # of its words as the method: every word that is an operation of the client's service
    # counts.
    for path in rust_files() if macros else []:
        code = code_of(path.read_text())
        rel = path.relative_to(ROOT).as_posix()
        for name, crates in macros.items():
            for inv in re.finditer(rf"\b{name}!\s*[({{\[]", code):
                body = code[inv.end():_matching(code, inv.end() - 1)]
                for word in re.finditer(r"\b[a-z_][a-z0-9_]*\b", body):
                    where = f"{rel}:{code.count(chr(10), 0, inv.end() + word.start()) + 1}"
                    for crate in crates:
                        add(crate, word.group(0), where)
    return found


def sdk_dependencies():
    """The aws-sdk-* crates Cargo.toml depends on, minus those infra never calls."""
    deps = re.findall(r"^aws-sdk-([a-z0-9]+)\s*=", CARGO_TOML.read_text(), flags=re.M)
    return [d.replace("-", "") for d in deps if d not in NOT_CALLED_BY_INFRA]


# --- README.md: what it says the credentials need -----------------------------------------


def permissions_section():
    text = README.read_text()
    start = text.index("### Permissions\n")
    end = re.compile(r"^#{1,3} ", re.M).search(text, start + 1)
    return text[start:end.start() if end else len(text)]


def expand(pattern):
    """Brace expansion as the shell does it: `{Create,Delete}{Vpc,Subnet}` -> 4 names,
    `Describe{Vpcs,Subnets}` -> 2, nested braces included."""
    depth, start = 0, None
    for i, c in enumerate(pattern):
        if c == "{":
            if depth == 0:
                start = i
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                head, body, tail = pattern[:start], pattern[start + 1:i], pattern[i + 1:]
                alts, d, last = [], 0, 0
                for j, ch in enumerate(body):
                    d += ch == "{"
                    d -= ch == "}"
                    if ch == "," and d == 0:
                        alts.append(body[last:j])
                        last = j + 1
                alts.append(body[last:])
                return [head + x + rest for a in alts for x in expand(a) for rest in expand(tail)]
    assert depth == 0, f"unbalanced braces in README action {pattern!r}"
    return [pattern]


# A backticked action name or brace pattern: `GetRole`, `{Create,Delete}{Vpc,Subnet}`. Other
# backticked words in the table (`table/infra-locks`, `trigger-build`) are prose.
_ACTION = re.compile(r"`([A-Z{][A-Za-z0-9{},]*)`")


def readme_table():
    """{"prefix:Action": "the README text it was expanded from"} from the table's rows, whose
    first column names the IAM prefix in backticks: `| EC2 (`ec2`) | ... |`."""
    listed = {}
    rows = [line for line in permissions_section().splitlines() if line.startswith("|")]
    assert len(rows) > 2, "no permissions table in README.md's Permissions section"
    for row in rows[2:]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 2, f"a permissions row has two columns: {row}"
        prefix = re.search(r"`([a-z0-9-]+)`", cells[0])
        assert prefix, f"the service column names its IAM prefix in backticks: {cells[0]}"
        for pattern in _ACTION.findall(cells[1]):
            for action in expand(pattern):
                listed[f"{prefix.group(1)}:{action}"] = pattern
    return listed


def readme_implicit():
    """Actions a bullet under the table opens with (`- `iam:PassRole` on ...`): needed though
    no SDK call of infra's is named after them."""
    return set(re.findall(r"^- `([a-z0-9-]+:[A-Z][A-Za-z0-9]*)`", permissions_section(), flags=re.M))


# --- the tests -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def calls():
    return sdk_calls()


def test_snake_case_matches_the_sdk_crates():
    """The name rule against the generated crates themselves (src/operation/<name>.rs), where
    the SDK is in the local cargo registry; botocore may know newer operations than a crate."""
    checked = 0
    for crate, (model, _) in CRATES.items():
        dirs = sorted(Path.home().glob(f".cargo/registry/src/*/aws-sdk-{crate}-*/src/operation"))
        if not dirs:
            continue
        generated = {p.stem for p in dirs[-1].glob("*.rs")}
        ours = set(operations(model))
        assert generated <= ours, f"{crate}: the SDK has {sorted(generated - ours)[:10]}"
        checked += 1
    if not checked:
        pytest.skip("no aws-sdk-* crate in ~/.cargo/registry")


def test_snake_case_examples():
    assert snake("DescribeVpcs") == "describe_vpcs"
    assert snake("GetCallerIdentity") == "get_caller_identity"
    assert snake("AssignIpv6Addresses") == "assign_ipv6_addresses"
    assert snake("CreateDBInstance") == "create_db_instance"
    assert snake("ListAccessEntries") == "list_access_entries"
    assert snake("DescribeInstanceTypeOfferings") == "describe_instance_type_offerings"


def test_every_sdk_dependency_is_mapped():
    unmapped = [d for d in sdk_dependencies() if d not in CRATES]
    assert not unmapped, f"aws-sdk crates with no service/IAM prefix in CRATES: {unmapped}"


def test_scanner_finds_the_calls_it_must(calls):
    missing = sorted(MUST_FIND - calls.keys())
    assert not missing, f"the scanner no longer finds {missing}: is it still reading src/?"
    # A method named like an operation of another service must not be credited to it: the
    # same snake name exists in several services.
    assert "ec2:TagResource" not in calls
    assert "sts:TagResource" not in calls


def test_scanner_attributes_by_receiver(tmp_path, monkeypatch):
    """Receivers the scanner must resolve, and the sound fallback when it cannot."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "aws.rs").write_text(
        "pub struct Aws { pub ec2: aws_sdk_ec2::Client, pub elb: aws_sdk_elasticloadbalancingv2::Client,\n"
        "  pub logs: aws_sdk_cloudwatchlogs::Client, pub pricing: aws_sdk_pricing::Client }\n")
    (src / "a.rs").write_text(
        "use aws_sdk_acm::Client as Acm;\n"
        "// aws.ec2.delete_vpc() in a comment is not a call\n"
        "async fn f(cx: &Cx, acm: &Acm) {\n"
        "    let msg = \"aws.ec2.delete_subnet()\";\n"
        "    cx.aws\n        .ec2\n        .describe_vpcs()\n        .send().await;\n"
        "    let logs = &cx.aws.logs;\n"
        "    logs.tag_resource().send().await;\n"
        "    snap.aws().elb.add_tags().send().await;\n"
        "    cx.aws.pricing.get_products().send().await;\n"
        "    acm.describe_certificate().send().await;\n"
        "    cx.aws.ec2.clone();\n"
        "    something().delete_log_group();\n"
        # Setters named like operations: on a call's builder, on a local holding one, on a
        # shape's builder.
        "    let req = cx.aws.elb.set_subnets().load_balancer_arn(arn);\n"
        "    req.set_security_groups(groups).send().await;\n"
        "    cx.aws.elb.create_load_balancer().set_ip_address_type(t).send().await;\n"
        "    VpcConfig::builder().set_subnets(None).build();\n"
        "}\n"
        "macro_rules! paged { ($($call:ident;)*) => { $( cx.aws.ec2.$call().send(); )* } }\n"
        "paged! { describe_route_tables; describe_vpcs; }\n")
    monkeypatch.setattr(sys.modules[__name__], "SRC", src)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    found = sdk_calls()
    assert found.keys() >= {"ec2:DescribeVpcs", "logs:TagResource",
                            "elasticloadbalancing:AddTags", "pricing:GetProducts",
                            "acm:DescribeCertificate", "logs:DeleteLogGroup"}
    assert sorted(found["ec2:DescribeVpcs"]) == ["src/a.rs:22", "src/a.rs:7"]
    assert found["ec2:DescribeRouteTables"] == ["src/a.rs:22"]
    assert found["elasticloadbalancing:SetSubnets"] == ["src/a.rs:16"]
    assert "elasticloadbalancing:SetSecurityGroups" not in found
    assert "elasticloadbalancing:SetIpAddressType" not in found
    assert "ec2:DeleteVpc" not in found and "ec2:DeleteSubnet" not in found
    # `logs` is bound to the Logs client: ECR's and EKS's TagResource are not its calls.
    assert "ecr:TagResource" not in found and "eks:TagResource" not in found
    assert "`something` not recognised" in found["logs:DeleteLogGroup"][0]


def test_not_a_client_entries_are_current():
    seen = set()
    sdk_calls(seen)
    stale = sorted(NOT_A_CLIENT.keys() - seen)
    assert not stale, f"NOT_A_CLIENT entries that src/ no longer has (remove them): {stale}"


def test_brace_expansion():
    assert expand("{Create,Delete}{Vpc,Subnet}") == [
        "CreateVpc", "CreateSubnet", "DeleteVpc", "DeleteSubnet"]
    assert expand("Describe{Vpcs,Subnets}") == ["DescribeVpcs", "DescribeSubnets"]
    assert expand("{Get,{Put,Delete}}Item") == ["GetItem", "PutItem", "DeleteItem"]
    assert expand("GetRole") == ["GetRole"]


def test_readme_actions_exist():
    """A name the brace notation expands to must be a real action (`CreateLoadBalancers` is
    not), or a policy written from the table would fail to grant what it meant to."""
    # iam:PassRole is a permission only, no API operation: the prose must vouch for it.
    implicit = readme_implicit()
    bogus = sorted(f"{a} (from `{p}`)" for a, p in readme_table().items()
                   if a not in implicit and a.split(":")[1] not in all_actions(a.split(":")[0]))
    assert not bogus, "README lists actions that do not exist:\n  " + "\n  ".join(bogus)


def test_every_call_is_listed_in_the_readme(calls):
    listed = readme_table()
    missing = sorted(calls.keys() - listed.keys())
    assert not missing, (
        "src/ calls AWS operations README.md's Permissions table does not list:\n  "
        + "\n  ".join(f"{a}  ({', '.join(calls[a][:3])})" for a in missing))


def test_every_listed_action_is_needed(calls):
    listed, implicit = readme_table(), readme_implicit()
    stale = sorted(listed.keys() - calls.keys() - implicit)
    assert not stale, (
        "README.md's Permissions table lists actions src/ never calls (remove them, or say in "
        "the prose why they are needed without a call, naming them as `service:Action`):\n  "
        + "\n  ".join(stale))


def test_implicit_actions_are_in_the_table():
    # The table is what a policy is written from; the prose only explains.
    implicit = readme_implicit()
    assert {"iam:PassRole", "iam:CreateServiceLinkedRole"} <= implicit
    missing = sorted(implicit - readme_table().keys())
    assert not missing, f"named in the prose but not in the table: {missing}"


def test_get_role_is_listed():
    # Read by every plan (the stack's roles), and what an admin checks a service-linked role with.
    assert "iam:GetRole" in readme_table()
