"""Fixtures that run the real server and client as subprocesses on loopback ports."""

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc
import pytest

APP_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(APP_DIR))

import gen_protos  # noqa: E402

gen_protos.ensure()  # a fresh clone has no stubs yet; the test modules import them


class Proc:
    """A server or client subprocess. Port 0 lets the OS pick a free loopback port, read back
    from the process's "listening" log line, so parallel runs never race for a port."""

    def __init__(self, script, *args):
        self.popen = subprocess.Popen(
            [sys.executable, str(APP_DIR / script), "--host", "127.0.0.1", "--port", "0", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        self.lines = []
        self._listening = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self._listening.wait(30):
            self.kill()
            raise RuntimeError(f"{script} did not start: {self.lines}")
        self.port = self.events("listening")[0]["port"]
        self.addr = f"127.0.0.1:{self.port}"

    def _read(self):
        for line in self.popen.stderr:
            self.lines.append(line.rstrip("\n"))
            if '"listening"' in line:
                self._listening.set()

    def events(self, msg):
        return [e for e in map(json.loads, self.lines) if e.get("msg") == msg]

    def terminate(self, timeout=10):
        """SIGTERM, then the exit code and how long the process took to exit."""
        started = time.monotonic()
        self.popen.send_signal(signal.SIGTERM)
        rc = self.popen.wait(timeout)
        return rc, time.monotonic() - started

    def kill(self):
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()


@pytest.fixture
def spawn():
    procs = []

    def start(script, *args):
        proc = Proc(script, *args)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.kill()


@pytest.fixture(scope="module")
def grpc_server():
    proc = Proc("server.py")
    yield proc
    proc.kill()


@pytest.fixture(scope="module")
def grpc_client(grpc_server):
    proc = Proc("client.py", "--server", grpc_server.addr)
    yield proc
    proc.kill()


@pytest.fixture(scope="module")
def channel(grpc_server):
    with grpc.insecure_channel(grpc_server.addr) as ch:
        grpc.channel_ready_future(ch).result(timeout=10)
        yield ch


def pytest_collection_modifyitems(items):
    # These tests drive subprocesses; a hang must fail the test (pytest-timeout), not the CI job.
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.timeout(60))
