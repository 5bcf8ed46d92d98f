"""Benchmark of `infra` against the local AWS emulator with AWS's latencies, scaled.

Run it through `scripts/bench` (which prepares the virtualenv). One run, one emulator on a free
127.0.0.1 port, one time scale, so the numbers can be compared with each other:

- apply and destroy of the default stack: wall time of the `infra` process, against the
  critical path of the stack's dependency graph (the wait no tool can beat);
- plan on the applied stack: AWS calls (from the emulator's call log) and wall time;
- growth of plan's calls and time with 2, 3 and 6 availability zones and with a certificate
  (the HTTPS listener and gRPC target group it adds);
- plan in a noisy account: the same applied stack once the account also holds thousands of
  other roles with policies, hundreds of target groups and repositories and dozens of VPCs with
  subnets, next to the clean account's numbers;
- plan's read waves: the longest chain of AWS calls each sent only after the one before it was
  answered (the emulator logs when each request arrived and when it was answered), i.e. how many
  rounds of reads plan waits for one after the other; the rest run concurrently. The clean and
  noisy plans run with a round trip of CALL_LATENCY per call (concurrent calls wait it out
  together), so that independent calls arrive together and the chain is the dependencies';
- waiter lateness: how long after the emulator made a resource ready (or gone) `infra` said so;
- start-up time of `infra --version`, the peak RSS of the apply process and the binary's size;
- with `--build`: a release build from scratch first (its CPU time, all compiler processes
  together, and wall time), whose binary the rest then measures.

How the critical path is computed. The graph is `infra graph` (DOT; an edge a -> b means a must
exist before b). Each resource takes the time its kind takes in `tests/emulator/latency.py`,
times the time scale: NAT gateway, EKS cluster, node group and ALB; every other kind is treated
as instant. An EKS cluster, node group or CodeBuild project that follows an IAM role or trust
policy of the same run starts `iam_propagation` later (IAM propagation: the emulator, like AWS,
lets EKS and CodeBuild assume a role only seconds after CreateRole/UpdateAssumeRolePolicy). The
apply bound is the longest chain of these durations; the destroy bound is the longest chain of
delete durations along the reversed edges (a resource goes once everything that needs it has
gone). The executor orders deletes from what it observes, which can only add edges, so the
destroy bound stays a lower bound.

How waiter lateness is measured. The emulator logs every lifecycle change it schedules with the
moment it is due (GET /_emulator/transitions). The benchmark stamps each progress line of
`infra` with the time it arrives on the pipe; lateness is the time of the line that reports the
resource created (or deleted) minus the due time of its transition, matched by AWS id or name.
It includes the poll interval (adaptive: from 100 ms up to 2 s) and one Describe round trip.

`--json` prints, as the last line of stdout, one JSON object with every number.
"""

import argparse
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "emulator"))
sys.path.insert(0, str(ROOT / "tests"))

from latency import DURATIONS  # noqa: E402
from support import Emulator as EmulatorApi  # noqa: E402
from support import fill_account  # noqa: E402

# The latency.py entry each kind waits for when created and when deleted; other kinds are instant.
CREATE = {
    "nat_gateway": "nat_gateway_create",
    "eks_cluster": "eks_cluster_create",
    "eks_node_group": "eks_nodegroup_create",
    "load_balancer": "alb_provision",
}
DELETE = {
    "nat_gateway": "nat_gateway_delete",
    "eks_cluster": "eks_cluster_delete",
    "eks_node_group": "eks_nodegroup_delete",
}
# Kinds whose writes restart IAM propagation, and kinds that must wait for it.
ROLE_WRITERS = {"iam_role", "iam_trust_policy"}
ROLE_USERS = {"eks_cluster", "eks_node_group", "codebuild_project"}
# Emulator transitions infra waits for: the kind of resource and the progress verb that ends
# each wait (names alone are ambiguous: the cluster, repository and project share the stack's).
WAITED = {
    "nat_gateway_create": ("nat_gateway", "created"),
    "eks_cluster_create": ("eks_cluster", "created"),
    "eks_nodegroup_create": ("eks_node_group", "created"),
    "alb_provision": ("load_balancer", "created"),
    "nat_gateway_delete": ("nat_gateway", "deleted"),
    "eks_cluster_delete": ("eks_cluster", "deleted"),
    "eks_nodegroup_delete": ("eks_node_group", "deleted"),
}
# `[   12.3s] eks/cluster: created grpc-eks in 7.2s` (src/report/lines.rs).
PROGRESS = re.compile(r"^\[\s*[\d.]+s\] (?P<id>\S+): (?P<verb>created|deleted|updated) (?P<physical>\S+) in ")
NODE = re.compile(r'^\s*"(?P<id>[^"]+)" \[label="[^"]*\\n(?P<kind>[^"]+)"\];')
EDGE = re.compile(r'^\s*"(?P<a>[^"]+)" -> "(?P<b>[^"]+)"')
# Faster lifecycles for the growth series: plan only reads, so the time scale does not change
# what it measures, and the applies that set each variant up take seconds instead of minutes.
SETUP_TIME_SCALE = 0.002


def say(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


class BenchError(Exception):
    """A step the benchmark depends on failed; the message says which and why."""


# ---------------------------------------------------------------------------------- emulator


class Emulator(EmulatorApi):
    """scripts/emulator on a free loopback port, with its log in a file; the control API is the
    test suites' own."""

    def __init__(self, time_scale: float, log: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        super().__init__(f"http://127.0.0.1:{self.port}")
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log = log
        with open(log, "w") as stderr:
            self.proc = subprocess.Popen(
                [str(ROOT / "scripts" / "emulator"), "--port", str(self.port), "--time-scale", str(time_scale)],
                stdout=subprocess.PIPE, stderr=stderr, text=True,
            )
        ready = {}
        reader = threading.Thread(target=lambda: ready.setdefault("line", self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout=180)
        if ready.get("line", "").strip() != f"emulator ready on {self.url}":
            self.stop()
            raise BenchError(f"the emulator did not start; its log: {self.log}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# ---------------------------------------------------------------------------------- infra runs


@dataclass
class Run:
    args: tuple
    code: int
    seconds: float
    out: str
    lines: list  # (arrival time, stderr line)
    peak_rss_kib: int
    calls: list = field(default_factory=list)

    def tail(self) -> str:
        return "\n".join(line for _, line in self.lines[-30:])


class Infra:
    """The binary under test, pointed at the emulator only through AWS_ENDPOINT_URL."""

    def __init__(self, binary: Path, emu: Emulator, workdir: Path) -> None:
        self.binary, self.emu, self.workdir = binary, emu, workdir
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.env.update(AWS_ENDPOINT_URL=emu.url, AWS_ACCESS_KEY_ID="testing",
                        AWS_SECRET_ACCESS_KEY="testing", AWS_EC2_METADATA_DISABLED="true", NO_COLOR="1")

    def run(self, *args: str, check: bool = True) -> Run:
        before = len(self.emu.calls())
        start = time.time()
        p = subprocess.Popen([str(self.binary), *args], cwd=self.workdir, env=self.env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines, out = [], []

        def read_err() -> None:
            for line in p.stderr:
                lines.append((time.time(), line.rstrip("\n")))

        readers = [threading.Thread(target=read_err), threading.Thread(target=lambda: out.append(p.stdout.read()))]
        for t in readers:
            t.start()
        # wait4 gives this child's own peak RSS (getrusage of all children would mix in others).
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.time() - start
        p.returncode = os.waitstatus_to_exitcode(status)
        for t in readers:
            t.join()
        r = Run(args, p.returncode, seconds, "".join(out), lines, usage.ru_maxrss, self.emu.calls()[before:])
        if check and r.code != 0:
            raise BenchError(f"`infra {' '.join(args)}` exited {r.code}:\n{r.tail()}")
        return r

    def plan(self, config: Path, runs: int) -> dict:
        """AWS calls of one plan of the applied `config` (every run must agree, and find nothing
        to change), the median wall time of `runs`, and how many resources it compared."""
        results = [self.run("--config", str(config), "plan", "--detailed-exitcode") for _ in range(runs)]
        calls = {len(r.calls) for r in results}
        if len(calls) != 1:
            raise BenchError(f"plan made a different number of AWS calls each run: {sorted(calls)}")
        listed = json.loads(self.run("--config", str(config), "plan", "--json").out)["changes"]
        return {
            "calls": calls.pop(),
            "seconds": round(statistics.median(r.seconds for r in results), 3),
            "resources": len(listed),
            "waves": max(read_waves(r.calls) for r in results),
        }

    def graph(self, config: Path) -> tuple[dict, list]:
        """Kinds by logical id and the edges (a before b) of `infra graph`."""
        r = self.run("graph", "--config", str(config))
        kinds, edges = {}, []
        for line in r.out.splitlines():
            if m := NODE.match(line):
                kinds[m["id"]] = m["kind"]
            elif m := EDGE.match(line):
                edges.append((m["a"], m["b"]))
        if not kinds or not edges:
            raise BenchError("`infra graph` printed no nodes or no edges")
        return kinds, edges


def read_waves(calls: list) -> int:
    """The longest chain of `calls` (in the order they were answered) in which each was sent
    after the one before it had been answered."""
    depth: list[int] = []
    for i, c in enumerate(calls):
        before = [depth[j] for j in range(i) if calls[j]["t"] <= c["arrived"]]
        depth.append(1 + max(before, default=0))
    return max(depth, default=0)


# The noisy account: other teams' resources, enough for many pages of every account-wide list.
NOISE = {"roles": 2000, "target_groups": 400, "repositories": 200, "vpcs": 24}
# The round trip of one AWS call for the clean and noisy plans (AWS's own are tens of ms).
CALL_LATENCY = 0.05


def build_release(target_dir: Path) -> dict:
    """A clean `cargo build --release` into `target_dir`: its CPU time (every compiler process,
    user and system), wall time, and the binary's size."""
    shutil.rmtree(target_dir, ignore_errors=True)
    say(f"Building release from scratch in {target_dir} (minutes) ...")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet", "--target-dir", str(target_dir)],
                   cwd=ROOT, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    binary = target_dir / "release" / "infra"
    return {"binary": binary, "cpu_minutes": round(cpu / 60, 1), "wall_minutes": round(wall / 60, 1)}


def find_binary(explicit: str | None) -> tuple[Path, str]:
    if explicit:
        path = Path(explicit).resolve()
        return path, next((b for b in ("release", "debug") if b in path.parts), "given")
    release = ROOT / "target" / "release" / "infra"
    if release.exists():
        return release, "release"
    say("No release build (target/release/infra); building the debug one")
    subprocess.run(["cargo", "build", "--locked", "--quiet"], cwd=ROOT, check=True)
    return ROOT / "target" / "debug" / "infra", "debug"


# ---------------------------------------------------------------------------------- analysis


def critical_path(kinds: dict, edges: list, time_scale: float, destroy: bool) -> tuple[float, list]:
    """Length in seconds and resources of the longest chain of scaled durations (see the module
    docstring)."""
    before = {n: [] for n in kinds}
    for a, b in edges:
        if destroy:
            before[a].append(b)  # a goes once b, which needs it, has gone
        else:
            before[b].append(a)
    table = DELETE if destroy else CREATE
    propagation = DURATIONS["iam_propagation"] * time_scale
    finish, via = {}, {}

    def visit(n: str, trail: tuple) -> float:
        if n in finish:
            return finish[n]
        if n in trail:
            raise BenchError(f"`infra graph` has a cycle through {n}")
        start, prev = 0.0, None
        for p in before[n]:
            t = visit(p, trail + (n,))
            if not destroy and kinds[p] in ROLE_WRITERS and kinds[n] in ROLE_USERS:
                t += propagation
            if prev is None or t > start:
                start, prev = t, p
        own = DURATIONS[table[kinds[n]]] * time_scale if kinds[n] in table else 0.0
        finish[n], via[n] = start + own, prev
        return finish[n]

    end = max(kinds, key=lambda n: (visit(n, ()), n))
    path, n = [], end
    while n is not None:
        path.append(n)
        n = via[n]
    return finish[end], list(reversed(path))


def lateness(run: Run, transitions: list, kinds: dict) -> dict:
    """Seconds between each waited-for transition's due time and the progress line reporting it
    (`transitions` are those scheduled during `run`; `kinds` maps logical ids to kinds)."""
    seen = {}
    for t, line in run.lines:
        if m := PROGRESS.match(line):
            seen.setdefault((kinds.get(m["id"]), m["verb"], m["physical"]), (t, m["id"]))
    out = {}
    for tr in transitions:
        if tr["name"] in WAITED and (*WAITED[tr["name"]], tr["subject"]) in seen:
            t, logical = seen[(*WAITED[tr["name"]], tr["subject"])]
            out[logical] = round(t - tr["due"], 3)
    return out


def zones_config(base: str, zones: int) -> str:
    """The default config with `zones` availability zones (us-east-1a...), three /24s each."""
    block = "  zones:\n" + "".join(
        f"    - name: us-east-1{chr(ord('a') + i)}\n"
        f"      public: 10.0.{i}.0/24\n"
        f"      private_app: 10.0.{10 + i}.0/24\n"
        f"      private_data: 10.0.{20 + i}.0/24\n"
        for i in range(zones)
    )
    replaced, n = re.subn(r"  zones:\n(?:    .*\n|      .*\n)+", block, base)
    if n != 1:
        raise BenchError("the default config has no zones list where expected")
    return replaced


def chart(growth: list, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{g['label']}\n({g['resources']} resources)" for g in growth]
    fig, (calls_ax, time_ax) = plt.subplots(1, 2, figsize=(11, 4.2))
    calls_ax.bar(labels, [g["plan_calls"] for g in growth], color="#3b82f6")
    calls_ax.set_title("AWS calls made by `infra plan`")
    calls_ax.set_ylim(0, max(g["plan_calls"] for g in growth) * 1.3)
    for i, g in enumerate(growth):
        calls_ax.annotate(str(g["plan_calls"]), (i, g["plan_calls"]), ha="center", va="bottom")
    time_ax.bar(labels, [g["plan_seconds"] for g in growth], color="#10b981")
    time_ax.set_title("`infra plan` wall time (s, median)")
    time_ax.set_ylim(0, max(g["plan_seconds"] for g in growth) * 1.3)
    for i, g in enumerate(growth):
        time_ax.annotate(f"{g['plan_seconds']:.2f}", (i, g["plan_seconds"]), ha="center", va="bottom")
    for ax in (calls_ax, time_ax):
        ax.tick_params(axis="x", labelsize=8)
    fig.suptitle("infra plan as the stack grows (applied stack, local AWS emulator)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------------------- the run


def measure(args) -> dict:
    built = build_release(Path(args.out).resolve() / "release-build") if args.build else None
    binary, build = (built["binary"], "release") if built else find_binary(args.bin)
    say(f"Binary: {binary} ({build} build)")
    emu = Emulator(args.time_scale, Path(args.out).resolve() / "emulator.log")
    say(f"Emulator on {emu.url}, time scale {args.time_scale}")
    try:
        with tempfile.TemporaryDirectory(prefix="infra-bench-") as tmp:
            result = measure_with(args, Infra(binary, emu, Path(tmp)), build)
            result["binary_mib"] = round(binary.stat().st_size / 2**20, 1)
            if built:
                result["release_build"] = {k: v for k, v in built.items() if k != "binary"}
            return result
    finally:
        emu.stop()


def measure_with(args, infra: Infra, build: str) -> dict:
    emu, scale = infra.emu, args.time_scale
    infra.run("init", "--force")
    default_path = infra.workdir / "infra.yaml"
    base = default_path.read_text()

    kinds, edges = infra.graph(default_path)
    apply_cp, apply_path = critical_path(kinds, edges, scale, destroy=False)
    destroy_cp, destroy_path = critical_path(kinds, edges, scale, destroy=True)

    say("Applying the default stack ...")
    emu.reset()
    # moto builds each service's backend on its first request after a reset (a second for
    # EC2): a plan of the empty account pays for that, so the apply measures infra, not moto.
    infra.run("plan")
    apply = infra.run("apply", "--auto-approve")
    apply_late = lateness(apply, emu.transitions(), kinds)
    say(f"  {apply.seconds:.1f} s; planning it ...")
    plan = infra.plan(default_path, args.plan_runs)
    say("Destroying it ...")
    mark = len(emu.transitions())
    destroy = infra.run("destroy", "--auto-approve")
    destroy_late = lateness(destroy, emu.transitions()[mark:], kinds)
    say(f"  {destroy.seconds:.1f} s")

    variants = [("2 zones", 2, False), ("3 zones", 3, False), ("6 zones", 6, False),
                ("2 zones + certificate", 2, True)]
    growth = []
    emu.config(time_scale=SETUP_TIME_SCALE)
    try:
        for label, zones, certificate in variants:
            say(f"Plan growth: {label} ...")
            emu.reset()
            text = zones_config(base, zones)
            if certificate:
                arn = emu.client("acm").request_certificate(DomainName="grpc.example.com")["CertificateArn"]
                text = text.replace("certificate_arn: null", f"certificate_arn: {arn}")
            path = infra.workdir / f"bench-{zones}-{int(certificate)}.yaml"
            path.write_text(text)
            infra.run("--config", str(path), "apply", "--auto-approve")
            p = infra.plan(path, args.plan_runs)
            growth.append({"label": label, "zones": zones, "certificate": certificate,
                           "resources": p["resources"], "plan_calls": p["calls"], "plan_seconds": p["seconds"]})
        say("Plan in a noisy account ...")
        emu.reset()
        infra.run("apply", "--auto-approve")
        # Each call takes a round trip, concurrent calls together: plan's time is then about
        # its read waves times CALL_LATENCY, and the waves stand out in the call log.
        emu.config(call_latency=CALL_LATENCY)
        clean = infra.plan(default_path, args.plan_runs)
        emu.config(call_latency=0)
        fill_account(emu, **NOISE)
        emu.config(call_latency=CALL_LATENCY)
        noisy = infra.plan(default_path, args.plan_runs)
        emu.config(call_latency=0)
    finally:
        emu.config(time_scale=scale)
        emu.reset()

    startup = []
    for _ in range(args.startup_runs):
        t = time.perf_counter()
        subprocess.run([str(infra.binary), "--version"], check=True, stdout=subprocess.DEVNULL)
        startup.append(time.perf_counter() - t)

    out_dir = Path(args.out).resolve()
    chart_path = out_dir / "plan-growth.png"
    chart(growth, chart_path)

    first, most = growth[0], max(growth, key=lambda g: g["resources"] or 0)
    waits = {**{f"apply {k}": v for k, v in apply_late.items()},
             **{f"destroy {k}": v for k, v in destroy_late.items()}}
    result = {
        "time_scale": scale,
        "binary": str(infra.binary),
        "build": build,
        "apply_seconds": round(apply.seconds, 3),
        "apply_critical_path_seconds": round(apply_cp, 3),
        "apply_ratio": round(apply.seconds / apply_cp, 3),
        "apply_overhead_seconds": round(apply.seconds - apply_cp, 3),
        "apply_critical_path": apply_path,
        "apply_calls": len(apply.calls),
        "destroy_seconds": round(destroy.seconds, 3),
        "destroy_critical_path_seconds": round(destroy_cp, 3),
        "destroy_ratio": round(destroy.seconds / destroy_cp, 3),
        "destroy_overhead_seconds": round(destroy.seconds - destroy_cp, 3),
        "destroy_critical_path": destroy_path,
        "destroy_calls": len(destroy.calls),
        "plan_calls": plan["calls"],
        "plan_seconds": round(plan["seconds"], 3),
        "plan_resources": plan["resources"],
        "noise": NOISE,
        "call_latency_seconds": CALL_LATENCY,
        "plan_clean_account": clean,
        "plan_noisy_account": noisy,
        "plan_noisy_calls_ratio": round(noisy["calls"] / clean["calls"], 3),
        "plan_noisy_seconds_ratio": round(noisy["seconds"] / clean["seconds"], 3),
        "plan_growth": growth,
        "plan_growth_compared": [most["label"], first["label"]],
        "plan_calls_growth_ratio": round(most["plan_calls"] / first["plan_calls"], 3),
        "plan_seconds_growth_ratio": round(most["plan_seconds"] / first["plan_seconds"], 3),
        "waiter_lateness_seconds": waits,
        "waiter_lateness_max_seconds": max(waits.values()) if waits else None,
        "waiter_lateness_mean_seconds": round(statistics.mean(waits.values()), 3) if waits else None,
        "startup_ms_median": round(statistics.median(startup) * 1000, 2),
        "startup_ms_min": round(min(startup) * 1000, 2),
        "apply_peak_rss_mib": round(apply.peak_rss_kib / 1024, 1),
        "chart": str(chart_path),
    }
    (out_dir / "bench.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def table(r: dict) -> str:
    rows = [
        f"infra benchmark: time scale {r['time_scale']} (1.0 = real AWS), {r['build']} build {r['binary']}",
        "",
        f"{'':28}{'measured':>10}{'critical path':>16}{'ratio':>8}{'overhead':>11}",
        f"{'apply (default stack)':28}{r['apply_seconds']:>9.1f}s{r['apply_critical_path_seconds']:>15.1f}s"
        f"{r['apply_ratio']:>8.2f}{r['apply_overhead_seconds']:>10.1f}s",
        f"{'destroy':28}{r['destroy_seconds']:>9.1f}s{r['destroy_critical_path_seconds']:>15.1f}s"
        f"{r['destroy_ratio']:>8.2f}{r['destroy_overhead_seconds']:>10.1f}s",
        f"  apply critical path:   {' -> '.join(r['apply_critical_path'])}",
        f"  destroy critical path: {' -> '.join(r['destroy_critical_path'])}",
        f"  AWS calls: apply {r['apply_calls']}, destroy {r['destroy_calls']}",
        "",
        f"plan of the applied stack: {r['plan_calls']} AWS calls, {r['plan_seconds']:.2f} s "
        f"({r['plan_resources']} resources)",
        "",
        f"{'plan by account (' + str(int(CALL_LATENCY * 1000)) + ' ms a call)':28}{'AWS calls':>10}{'seconds':>9}{'read waves':>12}",
        *(f"  {label:26}{p['calls']:>10}{p['seconds']:>9.2f}{p['waves']:>12}"
          for label, p in (("clean account", r["plan_clean_account"]),
                           ("noisy account", r["plan_noisy_account"]))),
        f"  noisy: {r['noise']['roles']} other roles with policies, {r['noise']['target_groups']} target "
        f"groups, {r['noise']['repositories']} repositories, {r['noise']['vpcs']} VPCs; "
        f"calls x{r['plan_noisy_calls_ratio']:.2f}, time x{r['plan_noisy_seconds_ratio']:.2f}",
        "",
        f"{'plan growth':28}{'resources':>10}{'AWS calls':>11}{'seconds':>9}",
    ]
    for g in r["plan_growth"]:
        rows.append(f"  {g['label']:26}{g['resources']:>10}{g['plan_calls']:>11}{g['plan_seconds']:>9.2f}")
    rows += [
        f"  {' vs '.join(r['plan_growth_compared'])}: calls x{r['plan_calls_growth_ratio']:.2f}, "
        f"time x{r['plan_seconds_growth_ratio']:.2f}",
        "",
        "waiter lateness (progress line after the emulator's transition was due):",
    ]
    for k, v in r["waiter_lateness_seconds"].items():
        rows.append(f"  {k:40}{v:>7.2f}s")
    rows += [
        f"  max {r['waiter_lateness_max_seconds']:.2f}s, mean {r['waiter_lateness_mean_seconds']:.2f}s",
        "",
        f"start-up (infra --version): median {r['startup_ms_median']:.1f} ms, min {r['startup_ms_min']:.1f} ms",
        f"peak RSS of apply: {r['apply_peak_rss_mib']:.1f} MiB",
        f"binary: {r['binary_mib']:.1f} MiB"
        + (f"; clean release build: {r['release_build']['cpu_minutes']} CPU-minutes, "
           f"{r['release_build']['wall_minutes']} minutes wall" if "release_build" in r else ""),
        f"chart: {r['chart']}",
    ]
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-scale", type=float, default=0.05,
                        help="emulated AWS durations as a fraction of real ones (default 0.05)")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last stdout line")
    parser.add_argument("--out", default=str(ROOT / "target" / "bench"),
                        help="directory for plan-growth.png, bench.json and emulator.log (default target/bench)")
    parser.add_argument("--bin", help="infra binary (default: target/release/infra if built, else a debug build)")
    parser.add_argument("--build", action="store_true",
                        help="first build release from scratch (in --out), measure that build, bench its binary")
    parser.add_argument("--plan-runs", type=int, default=3, help="plans timed per stack variant (median)")
    parser.add_argument("--startup-runs", type=int, default=20, help="`infra --version` runs timed (median)")
    args = parser.parse_args()
    if args.time_scale <= 0 or args.plan_runs < 1 or args.startup_runs < 1:
        parser.error("--time-scale must be positive, --plan-runs and --startup-runs at least 1")
    try:
        result = measure(args)
    except BenchError as e:
        say(f"bench: {e}")
        return 1
    if args.json:
        print(json.dumps(result))
    else:
        print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
