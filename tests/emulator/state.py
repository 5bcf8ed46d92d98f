"""Runtime settings, the global lock and the transition scheduler shared by every patch.

Lifecycles are not driven by background threads. Each state change is a timer with a deadline;
due timers run at the start of every AWS request, under the same lock that serialises requests.
So every request sees a consistent world, and moto (not thread-safe) runs one request at a time.
"""

import collections
import heapq
import itertools
import random
import threading
import time
from typing import Callable

from latency import DURATIONS

LOCK = threading.RLock()


class Settings:
    def __init__(self) -> None:
        self.time_scale = 0.05
        self.fault_rate = 0.0
        self.seed = 0
        self.rng = random.Random(0)
        self.iam_propagation = True
        self.codebuild_fail_phase: str | None = None
        # Seconds every AWS call takes before it is served, as a network round trip would.
        self.call_latency = 0.0
        # Named transitions (latency.py keys) that do not happen while listed, even when due: a
        # test holds a resource in a state (a node group CREATING) until it has seen what it
        # needs, instead of racing the clock. Released, they happen at the next request.
        self.hold: set[str] = set()
        # Available `aws-K8S-*` interfaces the VPC CNI leaves in each subnet of a deleted managed
        # node group (fidelity/enis.py). AWS leaks them often enough that a destroy must cope;
        # a test that needs a clean run sets 0.
        self.cni_leftover_enis = 1
        # IAM actions ("pricing:GetProducts") the caller is not allowed: refused with the
        # service's access-denied error (fidelity/access.py), for "without access" tests.
        self.deny: set[str] = set()
        # Every AWS request is checked against botocore's model first (fidelity/contract.py); off
        # for a test that deliberately sends moto what AWS would refuse.
        self.model_validation = True

    def update(self, values: dict) -> None:
        if "time_scale" in values:
            self.time_scale = float(values["time_scale"])
        if "fault_rate" in values:
            self.fault_rate = float(values["fault_rate"])
        if "seed" in values:
            self.seed = int(values["seed"])
            self.rng = random.Random(self.seed)
        if "iam_propagation" in values:
            self.iam_propagation = bool(values["iam_propagation"])
        if "codebuild_fail_phase" in values:
            self.codebuild_fail_phase = values["codebuild_fail_phase"] or None
        if "call_latency" in values:
            self.call_latency = float(values["call_latency"])
        if "hold" in values:
            self.hold = {str(name) for name in values["hold"] or []}
        if "cni_leftover_enis" in values:
            self.cni_leftover_enis = max(0, int(values["cni_leftover_enis"]))
        if "deny" in values:
            self.deny = {str(action) for action in values["deny"] or []}
        if "model_validation" in values:
            self.model_validation = bool(values["model_validation"])

    def as_dict(self) -> dict:
        return {
            "time_scale": self.time_scale,
            "fault_rate": self.fault_rate,
            "seed": self.seed,
            "iam_propagation": self.iam_propagation,
            "codebuild_fail_phase": self.codebuild_fail_phase,
            "call_latency": self.call_latency,
            "hold": sorted(self.hold),
            "cni_leftover_enis": self.cni_leftover_enis,
            "deny": sorted(self.deny),
            "model_validation": self.model_validation,
            "unvalidated": dict(UNVALIDATED),
        }


# "service:operation" -> calls let through unvalidated because botocore has no model for them.
UNVALIDATED: collections.Counter = collections.Counter()

SETTINGS = Settings()


def scaled(name: str) -> float:
    """Real seconds for the named AWS duration at the current time scale."""
    return DURATIONS[name] * SETTINGS.time_scale


_timers: list = []
_counter = itertools.count()


def after(seconds: float, action: Callable[[], None], name: str | None = None) -> None:
    """Run `action` once `seconds` (already scaled) have passed, at the next request; a `name`d
    transition waits while the settings hold it."""
    heapq.heappush(_timers, (time.time() + seconds, next(_counter), name, action))


# Every named transition scheduled since start/reset: when it was scheduled and when it is due
# (the moment AWS would have made the change), for /_emulator/transitions. A benchmark compares
# `due` with when the tool noticed the change.
TRANSITIONS: list[dict] = []


def later(name: str, action: Callable[[], None], subject: str | None = None) -> None:
    """Run `action` after the named AWS duration (scaled); `subject` names the resource (an id,
    a name or an ARN, as the AWS API spells it) in the transition log."""
    now = time.time()
    seconds = scaled(name)
    TRANSITIONS.append({"name": name, "subject": subject, "scheduled": now, "due": now + seconds})
    after(seconds, action, name)


def run_due() -> None:
    now = time.time()
    held = []
    while _timers and _timers[0][0] <= now:
        timer = heapq.heappop(_timers)
        if timer[2] in SETTINGS.hold:
            held.append(timer)
        else:
            timer[3]()
    for timer in held:
        heapq.heappush(_timers, timer)


_reset_hooks: list[Callable[[], None]] = []


def on_reset(hook: Callable[[], None]) -> None:
    _reset_hooks.append(hook)


def reset() -> None:
    """Forget all pending transitions and every patch's side tables (moto state is separate)."""
    _timers.clear()
    TRANSITIONS.clear()
    for hook in _reset_hooks:
        hook()
