"""Kubernetes API of each EKS cluster, namespaces only: what `infra` itself calls there.

What moto 5.2.5 does differently (checked against moto/eks/models.py):
- a cluster has no Kubernetes API at all: DescribeCluster names a random
  `https://<random>.<region>.eks.amazonaws.com/` that nothing answers, with a random 1400-character
  string as its certificate authority.

What this module adds, served by the emulator under `/_k8s/<cluster>/` (server.py routes it, and
eks.py reports it as the cluster's `endpoint`):
- authentication as EKS does it: a bearer token `k8s-aws-v1.<unpadded base64url>` of an STS
  GetCallerIdentity URL presigned with SigV4 in the query (aws-iam-authenticator's checks: path `/`,
  only the presigning parameters, `x-k8s-aws-id` among the signed headers, X-Amz-Expires 0-900),
  whose signature is right for *this* cluster's name as `x-k8s-aws-id` (verified with the secret
  of the access key: moto's conventional `testing`, or keys IAM or STS handed out) and which is not
  expired. AWS's authenticator accepts a token for 15 minutes after its X-Amz-Date; the stub holds
  it to X-Amz-Date + X-Amz-Expires (60 s from `aws eks get-token`), so a client that reuses tokens
  too long fails here first. Otherwise 401 Unauthorized, as the API server answers;
- namespaces: list (with `labelSelector` equality terms), get, create (409 AlreadyExists, also for a
  name still Terminating), JSON merge patch (`application/merge-patch+json` only; labels validated
  as Kubernetes does, 422 Invalid), delete (Terminating for `k8s_namespace_delete` scaled, then
  gone; 409 Conflict when already Terminating; 403 for default, kube-system and kube-public);
  every namespace carries the API server's `kubernetes.io/metadata.name` label; a new cluster has
  default, kube-system, kube-public and kube-node-lease;
- 404 for a cluster that does not exist (or no longer does), 503 while it is still CREATING.

Not modelled: authorization (any valid token may do anything: no RBAC, no access policies), other
resource types, watches, server-side apply, strategic merge patch.
"""

import base64
import binascii
import copy
import hashlib
import hmac
import json
import os
import re
import time
import uuid
from datetime import datetime, timezone
from urllib.parse import parse_qs, quote, unquote, urlsplit

import state

PREFIX = "/_k8s/"
TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
# aws-iam-authenticator's parameter allow-list (pkg/token/token.go, parameterWhitelist).
ALLOWED_PARAMS = {"action", "version", "x-amz-algorithm", "x-amz-credential", "x-amz-date",
                  "x-amz-expires", "x-amz-security-token", "x-amz-signature", "x-amz-signedheaders"}
STS_HOST = re.compile(r"^sts(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
NAME_LABEL = "kubernetes.io/metadata.name"
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
UNDELETABLE = ("default", "kube-system", "kube-public")
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class _Api:
    """One cluster's API: the moto cluster it belongs to and its namespaces."""

    def __init__(self, backend, cluster) -> None:
        self.backend = backend
        self.cluster = cluster
        self.namespaces: dict[str, dict] = {}
        self.version = 1
        for name in SYSTEM_NAMESPACES:
            self._store(name, {})

    def alive(self) -> bool:
        return self.backend.clusters.get(self.cluster.name) is self.cluster

    def next_version(self) -> str:
        self.version += 1
        return str(self.version)

    def _store(self, name: str, labels: dict) -> dict:
        ns = {
            "kind": "Namespace",
            "apiVersion": "v1",
            "metadata": {
                "name": name,
                "uid": str(uuid.uuid4()),
                "resourceVersion": self.next_version(),
                "creationTimestamp": _now(),
                "labels": {**labels, NAME_LABEL: name},
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }
        self.namespaces[name] = ns
        return ns


_APIS: dict[str, _Api] = {}


def _reset() -> None:
    _APIS.clear()


state.on_reset(_reset)


def serve(backend, cluster) -> str | None:
    """Gives `cluster` a Kubernetes API and returns its URL, or None when the emulator's port is
    unknown (moto in-process, where nothing could answer it)."""
    _APIS[cluster.name] = _Api(backend, cluster)
    port = os.environ.get("MOTO_PORT")
    return f"http://127.0.0.1:{port}{PREFIX}{cluster.name}" if port else None


# ---------------------------------------------------------------- responses


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _status(code: int, reason: str, message: str) -> tuple[int, dict]:
    """A Kubernetes Status object, as the API server sends every error."""
    return code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                  "message": message, "reason": reason, "code": code}


def _unauthorized(why: str) -> tuple[int, dict]:
    # The API server says only "Unauthorized"; the reason helps whoever debugs a client.
    return _status(401, "Unauthorized", f"Unauthorized: {why}")


# ---------------------------------------------------------------- authentication


def _secret(access_key: str) -> str | None:
    """The secret of an access key: moto's conventional test pair, or one IAM or STS made."""
    if access_key == "testing":
        return "testing"
    try:
        from moto.iam.models import iam_backends
        from moto.sts.models import sts_backends

        for by_region in iam_backends.values():
            for backend in by_region.values():
                for user in backend.users.values():
                    for key in user.access_keys:
                        if key.access_key_id == access_key:
                            return key.secret_access_key
        for by_region in sts_backends.values():
            for backend in by_region.values():
                for role in backend.assumed_roles:
                    if role.access_key_id == access_key:
                        return role.secret_access_key
    except Exception:  # noqa: BLE001 - an unknown key is simply not found
        pass
    return None


def _quote(value: str) -> str:
    return quote(value, safe="-_.~")


def _signature(secret: str, method: str, query: dict, headers: dict, signed: list[str],
               payload_hash: str) -> str:
    """SigV4 of the presigned request as STS recomputes it when the authenticator replays it."""
    canonical_query = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(query.items())
                               if k != "X-Amz-Signature")
    canonical_headers = "".join(f"{name}:{headers[name]}\n" for name in signed)
    canonical = "\n".join([method, "/", canonical_query, canonical_headers, ";".join(signed),
                           payload_hash])
    _, date, region, service, terminal = query["X-Amz-Credential"].split("/")
    to_sign = "\n".join(["AWS4-HMAC-SHA256", query["X-Amz-Date"], f"{date}/{region}/{service}/{terminal}",
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, terminal):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def check_token(authorization: str, cluster: str, now: float | None = None) -> str | None:
    """Why the `Authorization` header does not authenticate to `cluster`; None when it does."""
    if not authorization.startswith("Bearer "):
        return "no bearer token"
    token = authorization[len("Bearer "):].strip()
    if not token.startswith(TOKEN_PREFIX):
        return f"token is missing the {TOKEN_PREFIX!r} prefix"
    body = token[len(TOKEN_PREFIX):]
    if not re.fullmatch(r"[A-Za-z0-9_-]+", body):
        return "token is not unpadded base64url"
    try:
        url = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return "token is not base64url"
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not (STS_HOST.match(host) and parts.scheme == "https") and host not in ("127.0.0.1", "localhost"):
        return f"unexpected hostname {host!r} in pre-signed URL"
    if parts.path != "/":
        return "unexpected path in pre-signed URL"
    raw = parse_qs(parts.query, keep_blank_values=True)
    for key, values in raw.items():
        if key.lower() not in ALLOWED_PARAMS:
            return f"non-whitelisted query parameter {key!r}"
        if len(values) != 1:
            return "query parameter with multiple values not supported"
    query = {k: v[0] for k, v in raw.items()}
    lower = {k.lower(): v for k, v in query.items()}
    if lower.get("action") != "GetCallerIdentity":
        return "unexpected action parameter in pre-signed URL"
    if lower.get("x-amz-algorithm") != "AWS4-HMAC-SHA256":
        return "not a SigV4 pre-signed URL"
    signed = lower.get("x-amz-signedheaders", "").split(";")
    if CLUSTER_ID_HEADER not in signed:
        return f"client did not sign the {CLUSTER_ID_HEADER} header in the pre-signed URL"
    # The authenticator replays the URL with only these headers: anything else signed fails.
    if set(signed) - {"host", CLUSTER_ID_HEADER}:
        return f"signed headers the authenticator cannot replay: {signed}"
    try:
        expires = int(lower.get("x-amz-expires", ""))
        signed_at = datetime.strptime(lower.get("x-amz-date", ""), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return "X-Amz-Date or X-Amz-Expires missing or malformed"
    if not 0 <= expires <= 900:
        return f"invalid X-Amz-Expires parameter in pre-signed URL: {expires}"
    now = time.time() if now is None else now
    if now > signed_at.timestamp() + expires:
        return f"token expired ({signed_at:%Y-%m-%dT%H:%M:%SZ} + {expires}s)"
    if signed_at.timestamp() > now + 300:
        return "token signed in the future"
    credential = query.get("X-Amz-Credential", "").split("/")
    if len(credential) != 5 or credential[3] != "sts" or credential[4] != "aws4_request":
        return "X-Amz-Credential is not for STS"
    secret = _secret(credential[0])
    if secret is None:
        return "the access key is not one STS knows (InvalidClientTokenId)"
    headers = {"host": parts.netloc, CLUSTER_ID_HEADER: cluster}
    # A GET has no body: STS hashes the empty one (only S3 takes "UNSIGNED-PAYLOAD").
    expected = _signature(secret, "GET", query, headers, signed, EMPTY_SHA256)
    if not hmac.compare_digest(expected, query.get("X-Amz-Signature", "")):
        return f"signature does not match (a token for another cluster than {cluster!r}?)"
    return None


# ---------------------------------------------------------------- namespaces


def _label_problems(labels) -> list[str]:
    if not isinstance(labels, dict):
        return ["metadata.labels: must be a map of strings"]
    problems = []
    for key, value in labels.items():
        prefix, _, name = key.rpartition("/")
        if (prefix and (len(prefix) > 253 or not DNS_SUBDOMAIN.match(prefix))) or len(name) > 63 \
                or not LABEL_NAME.match(name):
            problems.append(f"metadata.labels: Invalid value: {key!r}: name part must consist of "
                            "alphanumeric characters, '-', '_' or '.', and must start and end with "
                            "an alphanumeric character")
        if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value):
            problems.append(f"metadata.labels: Invalid value: {value!r}: a valid label must be an "
                            "empty string or consist of alphanumeric characters, '-', '_' or '.', "
                            "and must start and end with an alphanumeric character")
    return problems


def _merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_patch(result.get(key), value)
    return result


def _selected(ns: dict, selector: str) -> bool:
    """Equality-based label selectors: `k=v`, `k==v`, `k!=v`, `k`, `!k`, joined by commas."""
    labels = ns["metadata"].get("labels") or {}
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            if labels.get(key.strip()) != value.strip():
                return False
        elif term.startswith("!"):
            if term[1:].strip() in labels:
                return False
        elif term not in labels:
            return False
    return True


def _finish_deletion(api: _Api, ns: dict) -> None:
    name = ns["metadata"]["name"]
    if api.namespaces.get(name) is ns:
        api.namespaces.pop(name)


def _read_json(environ) -> tuple[object, str | None]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(length) if length else b""
    try:
        return json.loads(raw or b"null"), None
    except ValueError as err:
        return None, f"the body is not JSON: {err}"


def action_of(method: str, name: str | None) -> str:
    """The call log's name for a request (Get/List read, the rest write)."""
    if name is None:
        return {"GET": "ListNamespaces", "POST": "CreateNamespace"}.get(method, "Unknown")
    return {"GET": "GetNamespace", "PATCH": "PatchNamespace", "PUT": "ReplaceNamespace",
            "DELETE": "DeleteNamespace"}.get(method, "Unknown")


def _route(environ) -> tuple[str, str, re.Match | None, str | None]:
    """(cluster, path after it, namespaces match, namespace name) of a request under PREFIX."""
    path = environ.get("PATH_INFO", "")[len(PREFIX):]
    cluster_name, _, rest = path.partition("/")
    match = re.fullmatch(r"api/v1/namespaces(?:/([^/]+))?", rest)
    name = unquote(match.group(1)) if match and match.group(1) else None
    return cluster_name, rest, match, name


def request_action(environ) -> str:
    """The call log's name for a request: ListNamespaces, GetNamespace, CreateNamespace, ..."""
    _, _, match, name = _route(environ)
    return action_of(environ.get("REQUEST_METHOD", "GET"), name) if match else "Unknown"


def handle(environ) -> tuple[int, dict]:
    """Serves one request under PREFIX: (status, JSON body)."""
    method = environ.get("REQUEST_METHOD", "GET")
    cluster_name, rest, match, name = _route(environ)
    api = _APIS.get(cluster_name)
    if api is None or not api.alive():
        return _status(404, "NotFound", f"no EKS cluster {cluster_name!r} serves this API")
    if api.cluster.status == "CREATING":
        return _status(503, "ServiceUnavailable", "the control plane is not up yet")
    why = check_token(environ.get("HTTP_AUTHORIZATION", ""), cluster_name)
    if why is not None:
        return _unauthorized(why)
    if not match:
        return _status(404, "NotFound", f"the server could not find the requested resource ({rest})")
    return _namespaces(api, environ, method, name)


def _namespaces(api: _Api, environ, method: str, name: str | None) -> tuple[int, dict]:
    if name is None and method == "GET":
        query = parse_qs(environ.get("QUERY_STRING", ""))
        selector = (query.get("labelSelector") or [""])[0]
        items = [ns for _, ns in sorted(api.namespaces.items()) if _selected(ns, selector)]
        return 200, {"kind": "NamespaceList", "apiVersion": "v1",
                     "metadata": {"resourceVersion": str(api.version)}, "items": copy.deepcopy(items)}
    if name is None and method == "POST":
        return _create(api, environ)
    if name is None:
        return _status(405, "MethodNotAllowed", f"{method} is not supported on namespaces")
    ns = api.namespaces.get(name)
    if ns is None:
        return _status(404, "NotFound", f'namespaces "{name}" not found')
    if method == "GET":
        return 200, copy.deepcopy(ns)
    if method == "PATCH":
        return _patch(api, environ, ns)
    if method == "DELETE":
        return _delete(api, ns)
    return _status(405, "MethodNotAllowed", f"{method} is not supported on a namespace")


def _create(api: _Api, environ) -> tuple[int, dict]:
    body, problem = _read_json(environ)
    if problem:
        return _status(400, "BadRequest", problem)
    if not isinstance(body, dict) or body.get("kind", "Namespace") != "Namespace":
        return _status(400, "BadRequest", "the body is not a Namespace")
    meta = body.get("metadata") or {}
    name = meta.get("name") or ""
    if len(name) > 63 or not DNS_LABEL.match(name):
        return _status(422, "Invalid", f'Namespace "{name}" is invalid: metadata.name: Invalid value: '
                                       f'"{name}": a lowercase RFC 1123 label must consist of lower '
                                       "case alphanumeric characters or '-'")
    labels = meta.get("labels") or {}
    problems = _label_problems(labels)
    if problems:
        return _status(422, "Invalid", f'Namespace "{name}" is invalid: {"; ".join(problems)}')
    existing = api.namespaces.get(name)
    if existing is not None:
        being_deleted = "object is being deleted: " if existing["metadata"].get("deletionTimestamp") else ""
        return _status(409, "AlreadyExists", f'{being_deleted}namespaces "{name}" already exists')
    return 201, copy.deepcopy(api._store(name, labels))


def _patch(api: _Api, environ, ns: dict) -> tuple[int, dict]:
    content_type = (environ.get("CONTENT_TYPE") or "").split(";")[0].strip()
    if content_type != "application/merge-patch+json":
        return _status(415, "UnsupportedMediaType",
                       f"the stub takes application/merge-patch+json only, not {content_type!r}")
    patch, problem = _read_json(environ)
    if problem or not isinstance(patch, dict):
        return _status(400, "BadRequest", problem or "a merge patch is a JSON object")
    name = ns["metadata"]["name"]
    patched = _merge_patch(ns, patch)
    if patched.get("metadata", {}).get("name") != name:
        return _status(400, "BadRequest", f"the name of the object ({patched.get('metadata', {}).get('name')}) "
                                          f"does not match the name on the URL ({name})")
    labels = patched["metadata"].get("labels") or {}
    problems = _label_problems(labels)
    if problems:
        return _status(422, "Invalid", f'Namespace "{name}" is invalid: {"; ".join(problems)}')
    # Server-owned fields stay as they are; the name label is the API server's and always right.
    ns["metadata"]["labels"] = {**labels, NAME_LABEL: name}
    if "annotations" in patched["metadata"]:
        ns["metadata"]["annotations"] = patched["metadata"]["annotations"]
    ns["metadata"]["resourceVersion"] = api.next_version()
    return 200, copy.deepcopy(ns)


def _delete(api: _Api, ns: dict) -> tuple[int, dict]:
    name = ns["metadata"]["name"]
    if name in UNDELETABLE:
        return _status(403, "Forbidden", f'namespaces "{name}" is forbidden: this namespace may not be deleted')
    if ns["metadata"].get("deletionTimestamp"):
        # The API server's text for a second delete of a Terminating namespace.
        return _status(409, "Conflict", f'Operation cannot be fulfilled on namespaces "{name}": The system '
                                        "is ensuring all content is removed from this namespace.  Upon "
                                        "completion, this namespace will automatically be purged by the system.")
    ns["metadata"]["deletionTimestamp"] = _now()
    ns["metadata"]["resourceVersion"] = api.next_version()
    ns["status"]["phase"] = "Terminating"
    state.later("k8s_namespace_delete", lambda: _finish_deletion(api, ns),
                subject=f"{api.cluster.name}/{name}")
    return 200, copy.deepcopy(ns)


def fault() -> tuple[int, dict]:
    """An injected fault as a busy API server sends it: 429 (two thirds) or 500."""
    if state.SETTINGS.rng.random() < 1 / 3:
        return _status(500, "InternalError", "Internal error occurred: injected fault")
    return _status(429, "TooManyRequests", "the server has received too many requests and has "
                                           "asked us to try again later")
