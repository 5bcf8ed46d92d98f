"""Access denied on demand: the `deny` setting lists IAM actions ("pricing:GetProducts",
"eks:DescribeClusterVersions") the caller may not perform, and the emulator refuses them with
the error each service answers when no policy allows the call.

moto does not evaluate IAM policies for server-mode callers, so without this a test cannot show
what the tool does "without access". The action is `<SigV4 signing name>:<operation>`, which is
the IAM action name for every service the tool uses (`elasticloadbalancing:`, `logs:`, ...).
"""

import json
import uuid

from calls import PROTOCOLS
from state import SETTINGS

ACCOUNT = "123456789012"
# moto's caller identity for the conventional `testing` keys.
CALLER = f"arn:aws:iam::{ACCOUNT}:user/moto"


def denied(service: str, action: str) -> bool:
    return f"{service}:{action}" in SETTINGS.deny


def message(service: str, action: str) -> str:
    # IAM's wording since 2021 (IAM User Guide, "Troubleshoot access denied error messages").
    return (f"User: {CALLER} is not authorized to perform: {service}:{action} because no "
            f"identity-based policy allows the {service}:{action} action")


def response(service: str, action: str) -> tuple[int, list, bytes]:
    """(status, headers, body) of the service's access-denied error, in its wire format."""
    request_id = str(uuid.uuid4())
    text = message(service, action)
    protocol = PROTOCOLS.get(service, "query")
    if protocol == "ec2":
        # EC2 says UnauthorizedOperation, 403 (EC2 API reference, "Error codes").
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
                f"<Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this "
                f"operation. {text}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>")
        return 403, [("Content-Type", "text/xml")], body.encode()
    if protocol == "query":
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>{text}"
                f"</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>")
        return 403, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body.encode()
    if protocol == "rest-json":
        status, content_type = 403, "application/json"
    else:
        # awsJson1_0/1_1 services (ECR, CodeBuild, Logs, DynamoDB, Pricing) answer 400
        # AccessDeniedException (Pricing model: AccessDeniedException; AWS JSON protocol: client
        # errors are 400).
        status = 400
        content_type = "application/x-amz-json-1.0" if service == "dynamodb" else "application/x-amz-json-1.1"
    headers = [("Content-Type", content_type), ("x-amzn-ErrorType", "AccessDeniedException"),
               ("x-amzn-RequestId", request_id)]
    return status, headers, json.dumps({"__type": "AccessDeniedException", "message": text}).encode()
