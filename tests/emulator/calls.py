"""Names each incoming AWS request (service, action) and keeps the call log.

The service comes from the SigV4 credential scope (`Credential=AKID/date/region/SERVICE/aws4_request`),
the action from the protocol: `Action` in the query string or form body (query/ec2 protocols),
`X-Amz-Target` (JSON protocols), or the REST method + path matched against the botocore model
(restJson1, e.g. EKS) with moto's own router.
"""

import io
import time
from urllib.parse import parse_qs

from moto.core.request import Request
from moto.core.routing import get_service_router

# Protocol of each service the tool uses, as the SigV4 signing name spells it.
PROTOCOLS = {
    "ec2": "ec2",
    "iam": "query",
    "sts": "query",
    "elasticloadbalancing": "query",
    "autoscaling": "query",
    "ecr": "json",
    "codebuild": "json",
    "logs": "json",
    "dynamodb": "json",  # awsJson1_0: X-Amz-Target DynamoDB_20120810.<Op>
    "eks": "rest-json",
}


def service_of(environ: dict) -> str:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    try:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0]
        return scope.split("/")[3].lower()
    except IndexError:
        return "unknown"


def _body(environ: dict) -> bytes:
    """Read the request body and put it back, so moto can read it again."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    data = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(data)
    return data


def action_of(environ: dict, service: str) -> str:
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return query["Action"][0]
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rsplit(".", 1)[-1]
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        form = parse_qs(_body(environ).decode("utf-8", "replace"))
        if "Action" in form:
            return form["Action"][0]
    if PROTOCOLS.get(service) == "rest-json":
        try:
            operation, _ = get_service_router(service).match(Request(dict(environ)))
            return operation.name
        except Exception:  # noqa: BLE001 - an unknown path is logged as such
            pass
    return "Unknown"


class CallLog:
    def __init__(self) -> None:
        self.entries: list[dict] = []

    def add(self, service: str, action: str, status: int, arrived: float | None = None) -> None:
        """Logs a call answered now; `arrived` is when it reached the server (before it waited
        for the lock around moto), so concurrent requests show as overlapping."""
        done = time.time()
        self.entries.append({"service": service, "action": action, "status": status,
                             "arrived": done if arrived is None else arrived, "t": done})

    def clear(self) -> None:
        self.entries.clear()


CALLS = CallLog()
