"""gRPC server: helloworld.helloworld/GetServerResponse, plus health checking and reflection.

    python app/server.py [--host 0.0.0.0] [--port 9000] [--grace 10]

On SIGTERM (or SIGINT) it reports NOT_SERVING, stops accepting RPCs, lets in-flight ones finish
for up to the grace period, then exits 0.
"""

import argparse
import os
import signal
import threading
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

import gen_protos
import jsonlog

gen_protos.ensure()
from generated import helloworld_pb2, helloworld_pb2_grpc  # noqa: E402  (generated just above)

SERVICE_NAME = helloworld_pb2.DESCRIPTOR.services_by_name["helloworld"].full_name
log = jsonlog.setup("server")


class Helloworld(helloworld_pb2_grpc.helloworldServicer):
    def GetServerResponse(self, request, context):
        if not request.message.strip():
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "message must be a non-empty string")
        log.info("request", extra={"rpc": "GetServerResponse", "peer": context.peer(), "message_len": len(request.message)})
        return helloworld_pb2.MessageResponse(
            message=f'Hello I am up and running received "{request.message}" message from you',
            received=True,
        )


def serve(host, port, grace):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    helloworld_pb2_grpc.add_helloworldServicer_to_server(Helloworld(), server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    bound = server.add_insecure_port(f"{host}:{port}")  # port 0: the OS picks a free one
    server.start()
    # "" is the whole server (what the kubelet's grpc probe asks about); the named entry lets
    # clients check this service specifically.
    for name in ("", SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("listening", extra={"host": host, "port": bound})

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: stop.set())
    stop.wait()

    log.info("shutting down", extra={"grace_s": grace})
    health_servicer.enter_graceful_shutdown()  # NOT_SERVING for every service, and stays so
    server.stop(grace).wait()
    log.info("stopped")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "9000")))
    parser.add_argument("--grace", type=float, default=float(os.environ.get("GRACE_PERIOD", "10")),
                        help="seconds in-flight RPCs get to finish after SIGTERM")
    args = parser.parse_args()
    serve(args.host, args.port, args.grace)


if __name__ == "__main__":
    main()
