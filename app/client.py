"""HTTP front for the gRPC server (what the ALB talks to).

    python app/client.py [--host 0.0.0.0] [--port 8080] [--server grpc-server:9000]

    GET  /?message=hi               -> 200 {"message": "...", "received": true}
    POST /  {"message": "hi"}       -> same
    GET  /healthz                   -> 200 when the gRPC server reports SERVING, else 503
    GET  /livez                     -> 200 while this process serves HTTP (liveness only)

gRPC errors map to HTTP: INVALID_ARGUMENT 400, DEADLINE_EXCEEDED 504, UNAVAILABLE 503, other 502.
"""

import argparse
import json
import os
import signal
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

import gen_protos
import jsonlog

gen_protos.ensure()
from generated import helloworld_pb2, helloworld_pb2_grpc  # noqa: E402  (generated just above)

log = jsonlog.setup("client")

MAX_BODY = 64 * 1024
HEALTH_TIMEOUT = 1.0  # below the readiness probe's timeoutSeconds (2) in manifests/client.yaml
GRPC_TO_HTTP = {
    grpc.StatusCode.INVALID_ARGUMENT: HTTPStatus.BAD_REQUEST,
    grpc.StatusCode.DEADLINE_EXCEEDED: HTTPStatus.GATEWAY_TIMEOUT,
    grpc.StatusCode.UNAVAILABLE: HTTPStatus.SERVICE_UNAVAILABLE,
}


class Backend:
    """One channel for the whole process: it is thread-safe and multiplexes every request."""

    def __init__(self, target, timeout):
        self.timeout = timeout
        # gRPC's default reconnect backoff grows to 120 s; after a server restart that would keep
        # /healthz at 503 for minutes, so cap it.
        self.channel = grpc.insecure_channel(target, options=[
            ("grpc.initial_reconnect_backoff_ms", 250),
            ("grpc.max_reconnect_backoff_ms", 2000),
        ])
        self.api = helloworld_pb2_grpc.helloworldStub(self.channel)
        self.health = health_pb2_grpc.HealthStub(self.channel)

    def call(self, message):
        reply = self.api.GetServerResponse(helloworld_pb2.Message(message=message), timeout=self.timeout)
        return {"message": reply.message, "received": reply.received}

    def serving(self):
        try:
            reply = self.health.Check(health_pb2.HealthCheckRequest(service=""), timeout=HEALTH_TIMEOUT)
        except grpc.RpcError as err:
            return err.code().name
        return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


class Handler(BaseHTTPRequestHandler):
    server_version = "grpc-client"
    timeout = 10  # an idle or slow connection must not hold a worker thread (or shutdown) forever

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/healthz":
            status = self.server.backend.serving()
            code = HTTPStatus.OK if status == "SERVING" else HTTPStatus.SERVICE_UNAVAILABLE
            return self._json(code, {"status": status})
        if url.path == "/livez":
            return self._json(HTTPStatus.OK, {"status": "ok"})
        if url.path == "/":
            return self._forward(parse_qs(url.query).get("message", [""])[0])
        self._json(HTTPStatus.NOT_FOUND, {"error": "NOT_FOUND", "detail": f"no route {url.path}"})

    def do_POST(self):
        if urlsplit(self.path).path != "/":
            return self._json(HTTPStatus.NOT_FOUND, {"error": "NOT_FOUND", "detail": "POST only on /"})
        try:
            length = int(self.headers.get("Content-Length", "0"))
            if length < 0:
                raise ValueError(length)  # read(-1) would wait for EOF
        except ValueError:
            return self._json(HTTPStatus.BAD_REQUEST, {"error": "BAD_REQUEST", "detail": "bad Content-Length"})
        if length > MAX_BODY:
            return self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                              {"error": "TOO_LARGE", "detail": f"body over {MAX_BODY} bytes"})
        try:
            body = json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("message", ""), str):
            return self._json(HTTPStatus.BAD_REQUEST,
                              {"error": "BAD_REQUEST", "detail": 'body must be JSON {"message": "<text>"}'})
        self._forward(body.get("message", ""))

    def _forward(self, message):
        try:
            self._json(HTTPStatus.OK, self.server.backend.call(message))
        except grpc.RpcError as err:
            code = GRPC_TO_HTTP.get(err.code(), HTTPStatus.BAD_GATEWAY)
            self._json(code, {"error": err.code().name, "detail": err.details()})

    def _json(self, code, payload):
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    # BaseHTTPRequestHandler logs plain text; route it through the JSON logger instead. The
    # query string is left out: it carries user content.
    def handle_one_request(self):
        self._started = time.monotonic()
        super().handle_one_request()

    def log_request(self, code="-", size="-"):
        log.info("request", extra={
            "method": self.command,
            "path": urlsplit(self.path).path,
            "status": int(code),
            "duration_ms": round((time.monotonic() - self._started) * 1000, 1),
            "remote": self.client_address[0],
        })

    def log_message(self, format, *args):
        log.warning(format % args, extra={"remote": self.client_address[0]})


class Server(ThreadingHTTPServer):
    # Wait for in-flight requests on shutdown instead of killing their threads; every request is
    # bounded by the gRPC deadline and the socket timeout, so the wait is bounded too.
    daemon_threads = False
    block_on_close = True

    def __init__(self, address, backend):
        super().__init__(address, Handler)
        self.backend = backend


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument("--server", default=os.environ.get("GRPC_SERVER", "grpc-server:9000"),
                        help="gRPC server address, host:port")
    parser.add_argument("--timeout", type=float, default=float(os.environ.get("GRPC_TIMEOUT", "2")),
                        help="deadline in seconds for each gRPC call")
    args = parser.parse_args()

    backend = Backend(args.server, args.timeout)
    httpd = Server((args.host, args.port), backend)  # port 0: the OS picks a free one
    worker = threading.Thread(target=httpd.serve_forever, name="http")
    worker.start()
    log.info("listening", extra={"host": args.host, "port": httpd.server_address[1], "grpc_server": args.server})

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: stop.set())
    stop.wait()

    # The pod's preStop sleep has already let the endpoints drop this pod, so stop at once.
    log.info("shutting down")
    httpd.shutdown()      # stop accepting; returns once serve_forever has left its loop
    httpd.server_close()  # joins the in-flight request threads (block_on_close)
    worker.join()
    backend.channel.close()
    log.info("stopped")


if __name__ == "__main__":
    main()
