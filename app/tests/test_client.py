"""The HTTP client service end to end: HTTP -> client.py -> gRPC -> server.py."""

import json
import urllib.error
import urllib.request

import pytest

REPLY = 'Hello I am up and running received "{}" message from you'


def http(port, path, body=None, method=None):
    """(status, decoded JSON body); HTTP errors are answers here, not exceptions."""
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_get_returns_the_grpc_reply(grpc_client):
    assert http(grpc_client.port, "/?message=hello%20world") == (200, {"message": REPLY.format("hello world"), "received": True})


def test_post_returns_the_grpc_reply(grpc_client):
    assert http(grpc_client.port, "/", {"message": "posted"}) == (200, {"message": REPLY.format("posted"), "received": True})


@pytest.mark.parametrize("path,body", [("/?message=", None), ("/", None), ("/", {"message": ""}), ("/", {})])
def test_empty_message_is_400(grpc_client, path, body):
    status, payload = http(grpc_client.port, path, body, method="POST" if body is not None else "GET")
    assert (status, payload["error"]) == (400, "INVALID_ARGUMENT")


@pytest.mark.parametrize("body", [b"not json", b"[1]", b'{"message": 5}'])
def test_malformed_body_is_400(grpc_client, body):
    status, payload = http(grpc_client.port, "/", body)
    assert (status, payload["error"]) == (400, "BAD_REQUEST")


def test_unknown_path_is_404(grpc_client):
    assert http(grpc_client.port, "/nope")[0] == 404


def test_healthz_and_livez_ok_when_server_serving(grpc_client):
    assert http(grpc_client.port, "/healthz") == (200, {"status": "SERVING"})
    assert http(grpc_client.port, "/livez") == (200, {"status": "ok"})


def test_server_down_gives_503_and_client_stays_alive(spawn):
    server = spawn("server.py")
    client = spawn("client.py", "--server", server.addr)
    assert http(client.port, "/healthz")[0] == 200

    assert server.terminate()[0] == 0
    assert http(client.port, "/healthz") == (503, {"status": "UNAVAILABLE"})
    status, payload = http(client.port, "/?message=anyone")
    assert (status, payload["error"]) == (503, "UNAVAILABLE")
    assert http(client.port, "/livez")[0] == 200  # liveness must not follow the backend's health


def test_client_sigterm_exits_zero_with_json_logs(spawn, grpc_server):
    client = spawn("client.py", "--server", grpc_server.addr)
    http(client.port, "/?message=bye")
    rc, took = client.terminate()
    assert rc == 0 and took < 5
    entries = [json.loads(line) for line in client.lines]
    access = [e for e in entries if e["msg"] == "request"]
    assert access == [{**access[0], "method": "GET", "path": "/", "status": 200}]
    assert "bye" not in json.dumps(entries)  # the query string (user content) is not logged
    assert entries[-1]["msg"] == "stopped"
