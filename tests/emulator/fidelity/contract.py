"""AWS's API contract: every AWS request is checked against botocore's model of its operation
before moto sees it.

moto parses what it understands and ignores the rest. A role name of 65 characters, an enum
value that does not exist, a missing required member or a misspelt parameter "worked" against
moto and fail against AWS, so the tool could pass every test here and break on its first real
run. AWS validates each request against the same model the SDKs are generated from (the
constraints botocore ships as `service-2.json`), and refuses it in the protocol's own error form:

- ec2 (query with EC2's errors): 400 `MissingParameter` "The request must contain the parameter
  X", `UnknownParameter` "The parameter X is not recognized", `InvalidParameterValue` "Value (v)
  for parameter x is invalid." Only the first problem is reported.
- query (IAM, STS, ELBv2, Auto Scaling): 400 `ValidationError` (Type Sender) "1 validation error
  detected: Value 'v' at 'roleName' failed to satisfy constraint: Member must have length less
  than or equal to 64", every violation counted and joined with "; ".
- json: the same constraint message, under the code each service uses: DynamoDB
  `ValidationException`, CloudWatch Logs `InvalidParameterException`, CodeBuild
  `InvalidInputException`, ECR `InvalidParameterException` in ECR's own wording ("Invalid
  parameter at 'repositoryName' failed to satisfy constraint: 'must have length greater than or
  equal to 2'"); other services: the model's first error shape among ValidationException,
  InvalidParameterException, InvalidInputException. A member of the wrong JSON type:
  `SerializationException`.
- rest-json (EKS): 400 `InvalidParameterException` with the constraint message.

Sources and what is unverified: ../README.md, fidelity table ("API contract" rows).

Patterns are Java regular expressions, matched against the whole value (Java's `matches()`), and
compiled with the `regex` module, which knows `\\p{L}`, `\\p{Print}` and the like. Two Java idioms
it does not take are translated: the surrogate-pair range Java writes for "any supplementary
character" (`\\uD800\\uDC00-\\uDBFF\\uDFFF`) and a literal `-` after a class shorthand (`[\\w-_]`).
A pattern that still does not compile is skipped (listed in SKIPPED_PATTERNS and logged once).

Not validated (let through, counted in state.UNVALIDATED, shown by GET /_emulator/config): services
or operations the installed botocore does not model, and protocols other than the four above
(rest-xml: S3, ...; CBOR bodies). Headers and unknown query-string parameters of rest-json calls
are not checked for unknown names (HTTP clients add their own).
"""

import json
import os
import re
import sys
import time
import uuid
from functools import lru_cache
from urllib.parse import parse_qsl, unquote

import regex
from botocore.loaders import Loader
from botocore.exceptions import DataNotFoundError

import state
from calls import _body

# Signing name -> botocore service names sharing it (told apart by API version / target prefix).
SERVICES = {"elasticloadbalancing": ("elbv2", "elb"), "monitoring": ("cloudwatch",)}
# Query parameters every query/ec2 request carries that are not operation members.
ENVELOPE = {"Action", "Version"}
ENVELOPE_PREFIXES = ("X-Amz-", "AWSAccessKeyId", "Signature", "Timestamp", "Expires")
# The code each JSON service answers a constraint violation with (see the module docstring).
JSON_CODES = {"dynamodb": "ValidationException", "logs": "InvalidParameterException",
              "codebuild": "InvalidInputException", "ecr": "InvalidParameterException"}

_loader = Loader()
SKIPPED_PATTERNS: set[str] = set()


class Refusal(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class Violation:
    """One broken constraint: where (AWS's lower-camel member path), the value and the rule."""

    def __init__(self, path: str, value, rule: str, kind: str, wire: str) -> None:
        self.path, self.value, self.rule, self.kind, self.wire = path, value, rule, kind, wire

    def coral(self) -> str:
        shown = "null" if self.value is None else f"'{_java(self.value)}'"
        return f"Value {shown} at '{self.path}' failed to satisfy constraint: {self.rule}"


def _java(value) -> str:
    """A value as Java's toString shows it in AWS's messages (lists `[a, b]`, maps `{k=v}`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_java(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java(v)}" for k, v in value.items()) + "}"
    return str(value)


# ---------------------------------------------------------------- models


@lru_cache(maxsize=None)
def _model(name: str):
    try:
        return _loader.load_service_model(name, "service-2")
    except DataNotFoundError:
        return None


def _candidates(signing_name: str) -> list[tuple[str, dict]]:
    names = SERVICES.get(signing_name, (signing_name,))
    return [(n, m) for n in names if (m := _model(n)) is not None]


def _protocol(model: dict) -> str:
    # CodeBuild's model prefers CBOR but lists json too; every SDK here speaks json to it.
    protocols = model["metadata"].get("protocols") or [model["metadata"]["protocol"]]
    for protocol in protocols:
        if protocol in ("ec2", "query", "json", "rest-json"):
            return protocol
    return protocols[0]


_SURROGATES = "\\uD800\\uDC00-\\uDBFF\\uDFFF"


@lru_cache(maxsize=None)
def _pattern(java: str):
    text = java.replace(_SURROGATES, "\\U00010000-\\U0010FFFF")
    text = re.sub(r"(\\[wdsWDS])-", r"\1\\-", text)
    try:
        return regex.compile(text)
    except regex.error:
        if java not in SKIPPED_PATTERNS:
            SKIPPED_PATTERNS.add(java)
            print(f"contract: skipping uncompilable model pattern {java!r}", file=sys.stderr, flush=True)
        return None


# ---------------------------------------------------------------- request -> operation + params


class Request:
    def __init__(self, environ: dict) -> None:
        self.method = environ.get("REQUEST_METHOD", "GET")
        self.path = environ.get("PATH_INFO", "") or "/"
        self.query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        self.content_type = environ.get("CONTENT_TYPE", "")
        self.target = environ.get("HTTP_X_AMZ_TARGET", "")
        self.headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        self.body = _body(environ) if self.method in ("POST", "PUT", "PATCH", "DELETE") else b""


def check(environ: dict, service: str):
    """None when the request keeps AWS's contract (or cannot be checked), else the refusal as
    (status, headers, body) in the service's wire format."""
    request = Request(environ)
    try:
        located = _locate(request, service)
    except Exception as err:  # noqa: BLE001 - a validator bug must never stop the call
        print(f"contract: could not check a {service} request: {err!r}", file=sys.stderr, flush=True)
        _unvalidated(service, "error")
        return None
    if located is None:
        return None
    name, model, operation, params, protocol = located
    try:
        violations = _validate_operation(model, operation, params, protocol)
        if not violations:
            return None
        refusal = _refusal(name, model, operation, protocol, violations)
    except Refusal as refusal_:
        refusal = refusal_
    except Exception as err:  # noqa: BLE001
        print(f"contract: could not check {service} {operation}: {err!r}", file=sys.stderr, flush=True)
        _unvalidated(service, operation + " (error)")
        return None
    _record(service, operation, refusal)
    return _render(protocol, service, refusal)


def _record(service: str, operation: str, refusal: Refusal) -> None:
    """Every refusal on stderr and, when EMULATOR_CONTRACT_LOG names a file, appended to it as a
    JSON line: a suite run shows which requests of the tool broke the contract."""
    print(f"contract: refused {service} {operation}: {refusal.code} {refusal.message}", file=sys.stderr, flush=True)
    path = os.environ.get("EMULATOR_CONTRACT_LOG")
    if path:
        with open(path, "a") as log:
            log.write(json.dumps({"t": time.time(), "service": service, "operation": operation,
                                  "code": refusal.code, "message": refusal.message}) + "\n")


def _unvalidated(service: str, what: str) -> None:
    key = f"{service}:{what}"
    if key not in state.UNVALIDATED:
        print(f"contract: not validated (no model): {key}", file=sys.stderr, flush=True)
    state.UNVALIDATED[key] += 1


def _locate(request: Request, service: str):
    """(botocore name, model, operation, parsed params, protocol) or None when not checkable."""
    candidates = _candidates(service)
    if not candidates:
        _unvalidated(service, "*")
        return None
    protocol = _protocol(candidates[0][1])
    if protocol in ("ec2", "query"):
        pairs = list(request.query)
        if request.content_type.startswith("application/x-www-form-urlencoded"):
            pairs += parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        flat = dict(pairs)
        action, version = flat.get("Action"), flat.get("Version")
        for name, model in candidates:
            if version and model["metadata"].get("apiVersion") != version:
                continue
            if action in model["operations"]:
                params = {k: v for k, v in pairs if k not in ENVELOPE and not k.startswith(ENVELOPE_PREFIXES)}
                return name, model, action, params, protocol
        _unvalidated(service, action or "?")
        return None
    if protocol == "json":
        prefix, _, action = request.target.rpartition(".")
        for name, model in candidates:
            if model["metadata"].get("targetPrefix") == prefix and action in model["operations"]:
                if request.content_type.startswith("application/cbor"):
                    _unvalidated(service, action + " (cbor)")
                    return None
                try:
                    params = json.loads(request.body or b"{}")
                except ValueError:
                    params = Refusal("SerializationException", "Start of structure or map found where not expected.")
                return name, model, action, params, protocol
        _unvalidated(service, request.target or "?")
        return None
    if protocol == "rest-json":
        for name, model in candidates:
            found = _match_rest(name, model, request)
            if found:
                return (name, model, found[0], found[1], protocol)
        _unvalidated(service, f"{request.method} {request.path}")
        return None
    _unvalidated(service, f"{protocol} protocol")
    return None


@lru_cache(maxsize=None)
def _rest_routes(service_name: str):
    """(method, compiled path regex, literal length, operation, label names) per operation,
    most specific first, as AWS's router picks the literal match over a label."""
    model = _model(service_name)
    routes = []
    for op_name, op in model["operations"].items():
        uri = op["http"]["requestUri"]
        path, _, query = uri.partition("?")
        labels = []

        def label(match):
            labels.append(match.group(1).rstrip("+"))
            return "(.+)" if match.group(1).endswith("+") else "([^/]+)"

        pattern = re.sub(r"\{([^}]+)\}", label, re.escape(path).replace(r"\{", "{").replace(r"\}", "}"))
        literal = len(re.sub(r"\{[^}]+\}", "", path))
        fixed_query = dict(parse_qsl(query, keep_blank_values=True))
        routes.append((op["http"]["method"], re.compile(pattern + "/?$"), literal, op_name, labels, fixed_query))
    routes.sort(key=lambda r: -r[2])
    return routes


def _match_rest(name: str, model: dict, request: Request):
    query = dict(request.query)
    for method, pattern, _, op_name, labels, fixed_query in _rest_routes(name):
        if method != request.method:
            continue
        matched = pattern.match(request.path)
        if not matched or any(query.get(k) != v and not (v == "" and k in query) for k, v in fixed_query.items()):
            continue
        values = {label: unquote(value) for label, value in zip(labels, matched.groups())}
        return op_name, _rest_params(model, op_name, values, request)
    return None


def _rest_params(model: dict, op_name: str, labels: dict, request: Request):
    """The operation's input members from where restJson1 puts them: URI labels, query string,
    headers and the JSON body."""
    op = model["operations"][op_name]
    shape_name = (op.get("input") or {}).get("shape")
    if not shape_name:
        return {}
    shape = model["shapes"][shape_name]
    params: dict = {}
    body_members = {}
    query = {}
    for key, value in request.query:
        query.setdefault(key, []).append(value)
    for member, ref in shape.get("members", {}).items():
        location, wire = ref.get("location"), ref.get("locationName", member)
        if location == "uri":
            if wire in labels:
                params[member] = _typed(model, ref["shape"], labels[wire])
        elif location == "querystring":
            target = model["shapes"][ref["shape"]]
            if target["type"] == "list" and wire in query:
                params[member] = [_typed(model, target["member"]["shape"], v) for v in query[wire]]
            elif target["type"] == "map":
                continue
            elif wire in query:
                params[member] = _typed(model, ref["shape"], query[wire][0])
        elif location == "header":
            if wire.lower() in request.headers:
                params[member] = _typed(model, ref["shape"], request.headers[wire.lower()])
        elif location == "headers":
            continue
        else:
            body_members[ref.get("locationName", member)] = member
    payload = shape.get("payload")
    if request.body and (body_members or payload):
        try:
            body = json.loads(request.body)
        except ValueError:
            return Refusal("SerializationException", "Start of structure or map found where not expected.")
        if payload:
            params[payload] = body
        elif isinstance(body, dict):
            for key, value in body.items():
                params[body_members.get(key, key)] = value
    return params


def _typed(model: dict, shape_name: str, text: str):
    """A URI / query / header string as the JSON value of its shape, so one validator serves."""
    kind = model["shapes"][shape_name]["type"]
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            return text
    if kind == "boolean":
        return {"true": True, "false": False}.get(text, text)
    return text


# ---------------------------------------------------------------- query trees


def _tree(params: dict) -> dict:
    """Flat query keys (`Tags.member.1.Key`) as a tree: {segment: [value or None, children]}."""
    root: dict = {}
    for key, value in params.items():
        node = root
        parts = key.split(".")
        for i, part in enumerate(parts):
            entry = node.setdefault(part, [None, {}])
            if i == len(parts) - 1:
                entry[0] = value
            node = entry[1]
    return root


def _wire_name(protocol: str, member: str, ref: dict) -> str:
    if protocol == "ec2":
        if "queryName" in ref:
            return ref["queryName"]
        if "locationName" in ref:
            return ref["locationName"][:1].upper() + ref["locationName"][1:]
        return member[:1].upper() + member[1:]
    return ref.get("locationName", member)


def _from_query(model: dict, protocol: str, shape_name: str, entry, wire: str, unknown: list):
    """The value a query tree node stands for under `shape_name`; unknown keys go to `unknown`."""
    shape = model["shapes"][shape_name]
    text, children = entry
    kind = shape["type"]
    if kind == "structure":
        out = {}
        consumed = set()
        for member, ref in shape.get("members", {}).items():
            name = _wire_name(protocol, member, ref)
            if name in children:
                consumed.add(name)
                out[member] = _from_query(model, protocol, ref["shape"], children[name], f"{wire}.{name}".lstrip("."), unknown)
        for name in children:
            if name not in consumed:
                unknown.extend(_leaves(f"{wire}.{name}".lstrip("."), children[name]))
        return out
    if kind == "list":
        items_entry = children
        if protocol == "query" and not shape.get("flattened"):
            list_name = shape["member"].get("locationName", "member")
            if not children and text == "":
                return []
            items_entry = children.get(list_name, [None, {}])[1]
            for name in children:
                if name != list_name:
                    unknown.extend(_leaves(f"{wire}.{name}", children[name]))
            wire = f"{wire}.{list_name}"
        if not items_entry and text == "":
            return []
        items = []
        for index in sorted(items_entry, key=lambda k: int(k) if k.isdigit() else 1 << 30):
            if not index.isdigit():
                unknown.extend(_leaves(f"{wire}.{index}", items_entry[index]))
                continue
            items.append(_from_query(model, protocol, shape["member"]["shape"], items_entry[index],
                                     f"{wire}.{index}", unknown))
        return items
    if kind == "map":
        entries = children if shape.get("flattened") else children.get("entry", [None, {}])[1]
        key_name = shape["key"].get("locationName", "key")
        value_name = shape["value"].get("locationName", "value")
        out = {}
        for index, item in entries.items():
            key = item[1].get(key_name, [None, {}])[0]
            if key is not None and value_name in item[1]:
                out[key] = _from_query(model, protocol, shape["value"]["shape"], item[1][value_name],
                                       f"{wire}.entry.{index}.{value_name}", unknown)
        return out
    if children:
        unknown.extend(_leaves(wire, entry))
    return _scalar(kind, text)


def _leaves(prefix: str, entry) -> list[str]:
    text, children = entry
    out = [prefix] if text is not None or not children else []
    for name, child in children.items():
        out.extend(_leaves(f"{prefix}.{name}", child))
    return out


class _Bad(str):
    """A query value that does not parse as its shape's type (kept as text for the message)."""


def _scalar(kind: str, text):
    if text is None:
        return None
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            return _Bad(text)
    if kind in ("double", "float"):
        try:
            return float(text)
        except ValueError:
            return _Bad(text)
    if kind == "boolean":
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        return _Bad(text)
    return text


# ---------------------------------------------------------------- validation


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _validate_operation(model: dict, operation: str, params, protocol: str) -> list[Violation]:
    if isinstance(params, Refusal):
        raise params
    shape_name = (model["operations"][operation].get("input") or {}).get("shape")
    if protocol in ("ec2", "query"):
        unknown: list[str] = []
        if shape_name:
            value = _from_query(model, protocol, shape_name, [None, _tree(params)], "", unknown)
        else:
            value, unknown = {}, _leaves("", [None, _tree(params)])
            unknown = [u.lstrip(".") for u in unknown]
        violations = [Violation(u, None, "unknown", "unknown", u) for u in unknown]
        if shape_name:
            violations += _check(model, shape_name, value, "", "", protocol)
        return violations
    if not shape_name:
        return []
    if not isinstance(params, dict):
        raise Refusal("SerializationException", "Start of structure or map found where not expected.")
    return _check(model, shape_name, params, "", "", protocol)


def _check(model: dict, shape_name: str, value, path: str, wire: str, protocol: str) -> list[Violation]:
    """Every violation of `value` against `shape_name`. `path` is AWS's message path
    (`defaultActions.1.member.redirectConfig`), `wire` the name as sent."""
    shape = model["shapes"][shape_name]
    kind = shape["type"]
    out: list[Violation] = []

    def add(rule: str, kind_: str = "value") -> None:
        out.append(Violation(path, value, rule, kind_, wire))

    if isinstance(value, _Bad):
        add(f"Member must be of type {kind}", "type")
        return out
    if shape.get("document"):
        return out
    if kind == "structure":
        if not isinstance(value, dict):
            add("Member must be a structure", "type")
            return out
        members = shape.get("members", {})
        for member, ref in members.items():
            member_wire = _wire_name(protocol, member, ref) if protocol in ("ec2", "query") else \
                ref.get("locationName", member)
            sub_path = f"{path}.{_camel(member)}" if path else _camel(member)
            sub_wire = f"{wire}.{member_wire}" if wire else member_wire
            if member in value and value[member] is not None:
                out += _check(model, ref["shape"], value[member], sub_path, sub_wire, protocol)
            elif member in shape.get("required", ()):
                out.append(Violation(sub_path, None, "Member must not be null", "missing", sub_wire))
        if protocol not in ("ec2", "query"):
            for key in value:
                if key not in members:
                    sub_path = f"{path}.{key}" if path else key
                    out.append(Violation(sub_path, value[key], "unknown", "unknown", sub_path))
        return out
    if kind == "list":
        if not isinstance(value, list):
            add("Member must be a list", "type")
            return out
        out += _length(shape, len(value), add)
        member_shape = shape["member"]["shape"]
        scalar_rules = []
        for index, item in enumerate(value, start=1):
            if item is None:
                continue
            item_out = _check(model, member_shape, item, f"{path}.{index}.member", f"{wire}.{index}", protocol)
            if model["shapes"][member_shape]["type"] in ("structure", "list", "map"):
                out += item_out
            else:
                for v in item_out:
                    if v.kind in ("type",):
                        out.append(v)
                    elif v.rule not in scalar_rules:
                        scalar_rules.append(v.rule)
                        first_bad = v
        if scalar_rules:
            # AWS reports a list of scalars once, with the member constraints bracketed.
            out.append(Violation(path, value, f"Member must satisfy constraint: [{', '.join(scalar_rules)}]",
                                 "value", first_bad.wire))
        return out
    if kind == "map":
        if not isinstance(value, dict):
            add("Member must be a map", "type")
            return out
        out += _length(shape, len(value), add)
        key_rules, value_rules = [], []
        for key, item in value.items():
            for v in _check(model, shape["key"]["shape"], key, path, wire, protocol):
                if v.rule not in key_rules:
                    key_rules.append(v.rule)
            item_out = _check(model, shape["value"]["shape"], item, f"{path}.{key}", f"{wire}.{key}", protocol) \
                if item is not None else []
            if model["shapes"][shape["value"]["shape"]]["type"] in ("structure", "list", "map"):
                out += item_out
            else:
                for v in item_out:
                    if v.rule not in value_rules:
                        value_rules.append(v.rule)
        if key_rules:
            add(f"Map keys must satisfy constraint: [{', '.join(key_rules)}]")
        if value_rules:
            add(f"Map value must satisfy constraint: [{', '.join(value_rules)}]")
        return out
    if kind == "string":
        if not isinstance(value, str):
            add("Member must be of type string", "type")
            return out
        out += _length(shape, len(value), add)
        if "enum" in shape and value not in shape["enum"]:
            add(f"Member must satisfy enum value set: [{', '.join(shape['enum'])}]")
        if "pattern" in shape:
            compiled = _pattern(shape["pattern"])
            if compiled is not None and not compiled.fullmatch(value):
                add(f"Member must satisfy regular expression pattern: {shape['pattern']}")
        return out
    if kind in ("integer", "long", "double", "float"):
        numbers = int if kind in ("integer", "long") else (int, float)
        if isinstance(value, bool) or not isinstance(value, numbers):
            add(f"Member must be of type {kind}", "type")
            return out
        if "min" in shape and value < shape["min"]:
            add(f"Member must have value greater than or equal to {shape['min']}")
        if "max" in shape and value > shape["max"]:
            add(f"Member must have value less than or equal to {shape['max']}")
        return out
    if kind == "boolean":
        if not isinstance(value, bool):
            add("Member must be of type boolean", "type")
        return out
    if kind == "blob":
        if not isinstance(value, str):
            add("Member must be of type blob", "type")
        else:
            out += _length(shape, len(value), add)
        return out
    if kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            add("Member must be of type timestamp", "type")
        return out
    return out


def _length(shape: dict, length: int, add) -> list:
    if "min" in shape and length < shape["min"]:
        add(f"Member must have length greater than or equal to {shape['min']}")
    if "max" in shape and length > shape["max"]:
        add(f"Member must have length less than or equal to {shape['max']}")
    return []


# ---------------------------------------------------------------- refusals


def _counted(violations: list[Violation]) -> str:
    n = len(violations)
    return f"{n} validation error{'s' if n > 1 else ''} detected: " + "; ".join(v.coral() for v in violations)


def _refusal(name: str, model: dict, operation: str, protocol: str, violations: list[Violation]) -> Refusal:
    if protocol == "ec2":
        first = violations[0]
        if first.kind == "unknown":
            return Refusal("UnknownParameter", f"The parameter {first.wire} is not recognized")
        if first.kind == "missing":
            return Refusal("MissingParameter", f"The request must contain the parameter {first.wire}")
        parameter = _camel(first.path.rsplit(".", 1)[-1])
        return Refusal("InvalidParameterValue", f"Value ({_java(first.value)}) for parameter {parameter} is invalid.")
    unknown = [v for v in violations if v.kind == "unknown"]
    if unknown and protocol != "query":
        return Refusal("SerializationException", f"Unknown member '{unknown[0].wire}' in the request.")
    if protocol == "query":
        if unknown:
            return Refusal("ValidationError", f"The parameter {unknown[0].wire} is not recognized")
        return Refusal("ValidationError", _counted(violations))
    types = [v for v in violations if v.kind == "type"]
    if types:
        return Refusal("SerializationException", f"Value of '{types[0].path}' is not of type "
                                                 f"{types[0].rule.rsplit(' ', 1)[-1]}.")
    if name == "ecr":
        first = violations[0]
        rule = first.rule.replace("Member must", "must").replace("regular expression pattern:", "regular expression")
        if "regular expression" in rule:
            rule = rule.replace("regular expression ", "regular expression '") + "'"
        return Refusal("InvalidParameterException",
                       f"Invalid parameter at '{first.path}' failed to satisfy constraint: '{rule}'")
    if protocol == "rest-json":
        return Refusal(_model_error(model, operation, ("InvalidParameterException", "ValidationException")),
                       _counted(violations))
    code = JSON_CODES.get(name) or _model_error(
        model, operation, ("ValidationException", "InvalidParameterException", "InvalidInputException"))
    return Refusal(code, _counted(violations))


def _model_error(model: dict, operation: str, preferred: tuple) -> str:
    errors = {e["shape"] for e in model["operations"][operation].get("errors", [])}
    return next((code for code in preferred if code in errors), preferred[0])


def _render(protocol: str, service: str, refusal: Refusal):
    request_id = str(uuid.uuid4())
    message = _xml_escape(refusal.message)
    if protocol == "ec2":
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{refusal.code}</Code>'
                f"<Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>")
        return refusal.status, [("Content-Type", "text/xml")], body.encode()
    if protocol == "query":
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{refusal.code}</Code><Message>{message}</Message>"
                f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>")
        return refusal.status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body.encode()
    content_type = "application/json" if protocol == "rest-json" else (
        "application/x-amz-json-1.0" if service == "dynamodb" else "application/x-amz-json-1.1")
    headers = [("Content-Type", content_type), ("x-amzn-ErrorType", refusal.code), ("x-amzn-RequestId", request_id)]
    return refusal.status, headers, json.dumps({"__type": refusal.code, "message": refusal.message}).encode()


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
