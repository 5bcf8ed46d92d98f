"""Local AWS emulator: moto's server plus a fidelity layer (see README.md).

Run through scripts/emulator. Listens on 127.0.0.1 only, prints one ready line, serves until
SIGTERM/SIGINT.
"""

import argparse
import http
import json
import os
import signal
import sys
import time

# The fidelity modules import each other as top-level modules (state, latency, calls).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# AWS-managed policies (AmazonEKSClusterPolicy, ...) exist in every real account; moto only
# knows them when asked to load them, before its IAM backend is first built.
os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")

from werkzeug.serving import make_server  # noqa: E402

from moto.core.base_backend import AccountSpecificBackend  # noqa: E402
from moto.ec2.models.subnets import Subnet  # noqa: E402
from moto.moto_api._internal.models import moto_api_backend  # noqa: E402
from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)

import fidelity  # noqa: E402
import state  # noqa: E402
from calls import CALLS, action_of, service_of  # noqa: E402
from faults import fault_response, should_fault  # noqa: E402
from fidelity import access, contract, kubernetes, pricing  # noqa: E402
from state import LOCK, SETTINGS  # noqa: E402


def _json(start_response, status: str, payload) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _clear_instance_caches() -> None:
    """moto memoises a few methods with functools caches keyed on the instance, so the backends a
    reset discards stayed alive: AccountSpecificBackend._generate_regions (up to 128 account
    backends, EC2's with its 1301 AMIs, snapshots and volumes) and, without any bound,
    Subnet._base_avail_ip_iterator (each subnet, and through it its EC2 backend). The heap grew
    by ~11k objects a test, and garbage collection pauses with it, until timed tests missed
    their windows. The caches are pure memoisation: clearing them changes no answer."""
    AccountSpecificBackend._generate_regions.cache_clear()
    Subnet._base_avail_ip_iterator.cache_clear()


class EmulatorApp:
    """WSGI app: control endpoints under /_emulator, the clusters' Kubernetes APIs under /_k8s,
    everything else is an AWS call to moto."""

    def __init__(self) -> None:
        self.moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_emulator/"):
            return self.control(environ, start_response, path[len("/_emulator/"):])
        if path.startswith(kubernetes.PREFIX):
            return self.kubernetes(environ, start_response)
        return self.aws(environ, start_response)

    def kubernetes(self, environ, start_response):
        """A cluster's Kubernetes API (fidelity/kubernetes.py): delayed, faulted (in the API
        server's own 429/500 form) and logged like an AWS call, as service `kubernetes`."""
        arrived = time.time()
        action = kubernetes.request_action(environ)
        if SETTINGS.call_latency > 0:
            time.sleep(SETTINGS.call_latency)
        with LOCK:
            if should_fault():
                status, payload = kubernetes.fault()
            else:
                state.run_due()
                status, payload = kubernetes.handle(environ)
            CALLS.add("kubernetes", action, status, arrived)
        return _json(start_response, f"{status} {http.HTTPStatus(status).phrase}", payload)

    def control(self, environ, start_response, name: str):
        method = environ.get("REQUEST_METHOD")
        with LOCK:
            if name == "health" and method == "GET":
                return _json(start_response, "200 OK", {"ok": True})
            if name == "calls" and method == "GET":
                return _json(start_response, "200 OK", list(CALLS.entries))
            if name == "transitions" and method == "GET":
                return _json(start_response, "200 OK", list(state.TRANSITIONS))
            if name == "reset" and method == "POST":
                moto_api_backend.reset()
                _clear_instance_caches()
                state.reset()
                CALLS.clear()
                return _json(start_response, "200 OK", {"ok": True})
            if name == "config" and method in ("GET", "POST"):
                if method == "POST":
                    length = int(environ.get("CONTENT_LENGTH") or 0)
                    raw = environ["wsgi.input"].read(length) if length else b"{}"
                    try:
                        SETTINGS.update(json.loads(raw or b"{}"))
                    except (ValueError, TypeError) as err:
                        return _json(start_response, "400 Bad Request", {"error": str(err)})
                return _json(start_response, "200 OK", SETTINGS.as_dict())
        return _json(start_response, "404 Not Found", {"error": f"no control endpoint {name}"})

    def aws(self, environ, start_response):
        arrived = time.time()
        service = service_of(environ)
        action = action_of(environ, service)
        # Outside the lock: concurrent calls wait out their round trips together, as on AWS.
        if SETTINGS.call_latency > 0:
            time.sleep(SETTINGS.call_latency)
        with LOCK:
            if should_fault():
                status, headers, body = fault_response(service)
                CALLS.add(service, action, status, arrived)
                start_response(f"{status} Fault", headers + [("Content-Length", str(len(body)))])
                return [body]
            # AWS validates against the operation's model before anything else (fidelity/contract.py).
            refused = contract.check(environ, service) if SETTINGS.model_validation else None
            if refused:
                status, headers, body = refused
                CALLS.add(service, action, status, arrived)
                start_response(f"{status} Bad Request", headers + [("Content-Length", str(len(body)))])
                return [body]
            state.run_due()
            # Calls the caller may not make (the `deny` setting), and pricing, which moto lacks.
            if access.denied(service, action) or service == "pricing":
                status, headers, body = (access.response(service, action) if access.denied(service, action)
                                         else pricing.handle(environ))
                CALLS.add(service, action, status, arrived)
                start_response(f"{status} {http.HTTPStatus(status).phrase}",
                               headers + [("Content-Length", str(len(body)))])
                return [body]
            seen = {}

            def recording_start_response(status_line, headers, exc_info=None):
                seen["status"] = int(status_line.split(" ", 1)[0])
                return start_response(status_line, headers, exc_info)

            # Materialise the body inside the lock: moto must not run concurrently.
            body = b"".join(self.moto(environ, recording_start_response))
            CALLS.add(service, action, seen.get("status", 0), arrived)
            return [body]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--time-scale", type=float, default=0.05)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--iam-propagation", dest="iam_propagation", action="store_true", default=True)
    parser.add_argument("--no-iam-propagation", dest="iam_propagation", action="store_false")
    args = parser.parse_args()
    SETTINGS.update({
        "time_scale": args.time_scale,
        "fault_rate": args.fault_rate,
        "seed": args.seed,
        "iam_propagation": args.iam_propagation,
    })
    os.environ["MOTO_PORT"] = str(args.port)
    fidelity.install()

    server = make_server("127.0.0.1", args.port, EmulatorApp(), threaded=True,
                         request_handler=MotoRequestHandler)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # The socket is bound and listening once make_server returns: connections queue from here.
    print(f"emulator ready on http://127.0.0.1:{args.port}", flush=True)
    try:
        server.serve_forever()
    except SystemExit:
        pass
    finally:
        server.server_close()
        sys.stdout.flush()
        # Skip interpreter teardown (seconds with all of moto loaded): nothing is persisted.
        os._exit(0)


if __name__ == "__main__":
    main()
