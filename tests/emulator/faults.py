"""Injected faults: an error in each protocol's own wire format, so SDKs classify it correctly.

About two thirds are throttling, one third a 5xx. Both are retryable for every AWS SDK (the
standard retry strategy treats throttling codes and 500/502/503/504 as transient).
"""

import json
import uuid

from calls import PROTOCOLS
from state import SETTINGS


def should_fault() -> bool:
    return SETTINGS.fault_rate > 0 and SETTINGS.rng.random() < SETTINGS.fault_rate


def fault_response(service: str) -> tuple[int, list, bytes]:
    """(status, headers, body) for a fault on `service`."""
    server_error = SETTINGS.rng.random() < 1 / 3
    request_id = str(uuid.uuid4())
    protocol = PROTOCOLS.get(service, "query")
    if protocol == "ec2":
        status, code, msg = (
            (503, "ServiceUnavailable", "Service Unavailable") if server_error
            else (503, "RequestLimitExceeded", "Request limit exceeded.")
        )
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code>'
            f"<Message>{msg}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
        return status, [("Content-Type", "text/xml")], body.encode()
    if protocol == "query":
        status, kind, code, msg = (
            (500, "Receiver", "InternalFailure", "An internal error occurred.") if server_error
            else (400, "Sender", "Throttling", "Rate exceeded")
        )
        body = (
            f'<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{msg}</Message>'
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body.encode()
    if protocol == "rest-json":
        status, code, msg = (
            (500, "ServerException", "An internal error occurred.") if server_error
            else (429, "ThrottlingException", "Rate exceeded")
        )
    elif service == "dynamodb":  # awsJson1_0; DynamoDB names its 500 InternalServerError
        status, code, msg = (
            (500, "InternalServerError", "Internal server error") if server_error
            else (400, "ThrottlingException", "Rate of requests exceeds the allowed throughput.")
        )
    else:  # awsJson1_1
        status, code, msg = (
            (500, "InternalFailure", "An internal error occurred.") if server_error
            else (400, "ThrottlingException", "Rate exceeded")
        )
    content_type = {"rest-json": "application/json", "json": "application/x-amz-json-1.1"}[protocol]
    if service == "dynamodb":
        content_type = "application/x-amz-json-1.0"
    headers = [
        ("Content-Type", content_type),
        ("x-amzn-ErrorType", code),
        ("x-amzn-RequestId", request_id),
    ]
    return status, headers, json.dumps({"__type": code, "message": msg}).encode()
