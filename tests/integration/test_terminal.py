"""What people see without a terminal (CI logs): timestamped progress lines, no colour codes,
`-v` AWS call lines, `-q` silence on success."""

import re

LINE = re.compile(
    r"^\[ *\d+\.\d+s\] (?:"
    r"[A-Za-z0-9/_.\-]+: (?:creating|updating|deleting)"
    # A sub-resource without an id of its own reads as its parts' names: `role / policy`.
    r"|[A-Za-z0-9/_.\-]+: (?:created|updated|deleted)(?: \S+(?: / \S+)*)? in (?:\d+\.\d+s|\d+m\d\ds)"
    r"|[A-Za-z0-9/_.\-]+: (?:waiting for|still) .+"
    # The estimate of what is left, from AWS's typical durations, corrected as steps finish.
    r"|about (?:\d+\.\ds|\d+m\d\ds) left"
    r")$"
)


def test_progress_lines_verbose_calls_and_quiet(infra):
    r = infra("apply", "--auto-approve", timeout=600)
    assert r.code == 0, r.err[-3000:]
    assert "\x1b[" not in r.out + r.err
    progress = [l for l in r.err.splitlines() if l.startswith("[")]
    assert len(progress) >= 2 * 47  # a start and an end line per resource
    bad = [l for l in progress if not LINE.match(l)]
    assert bad == [], bad[:5]
    assert any(": waiting for EKS cluster" in l for l in progress)
    # Internal composite ids never show: an attachment reads as its role's and policy's names.
    assert "attach/node/AmazonEKSWorkerNodePolicy: created grpc-eks-node / AmazonEKSWorkerNodePolicy in" in r.err
    assert "|arn:" not in r.err
    # The estimate: AWS's figures first (the cluster and its node group, 13 minutes), then the
    # emulator's pace once its NAT gateway and load balancer are done.
    etas = [l.split("] about ")[1] for l in progress if l.endswith(" left")]
    assert etas and etas[0].startswith("13m"), etas
    assert any(e.endswith("s left") and "m" not in e for e in etas[1:]), etas
    assert re.search(r"^Apply complete: 47 created, 0 updated, 0 replaced, 0 deleted in \d+\.\d+s\.$", r.out, re.M)

    before = len(infra.emu.calls())
    r = infra("plan", "-v")
    assert r.code == 0
    calls = re.findall(r"(\w+) (\w+) -> (\d{3}|no response) in \d+ ms", r.err)
    assert ("EC2", "DescribeVpcs", "200") in calls, r.err[-2000:]
    # One line per call the emulator saw, no more, no less.
    assert len(calls) == len(infra.emu.calls()) - before

    r = infra("destroy", "--auto-approve", "-q", timeout=600)
    assert r.code == 0, r.err[-2000:]
    assert (r.out, r.err) == ("", "")
    assert infra("plan", "--detailed-exitcode").code == 2


def test_unreachable_endpoint_and_missing_credentials_are_said_plainly(infra, tmp_path):
    import socket
    import subprocess
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # nothing listens once the socket is closed

    def plan(**env):
        e = infra.env()
        e.update(env)
        e = {k: v for k, v in e.items() if v is not None}
        return subprocess.run([infra.bin, "plan"], cwd=tmp_path, env=e, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=120)

    r = plan(AWS_ENDPOINT_URL=f"http://127.0.0.1:{closed}")
    assert r.returncode == 1
    assert f"could not reach AWS_ENDPOINT_URL=http://127.0.0.1:{closed} (Connection refused" in r.stderr, r.stderr
    assert "DispatchFailure" not in r.stderr

    empty = tmp_path / "empty"
    empty.write_text("")
    r = plan(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None, AWS_PROFILE=None,
             AWS_SHARED_CREDENTIALS_FILE=str(empty), AWS_CONFIG_FILE=str(empty),
             AWS_EC2_METADATA_DISABLED="true")
    assert r.returncode == 1
    # One line, no provider-by-provider warnings or debug dumps.
    [line] = r.stderr.splitlines()
    assert "no usable AWS credentials" in line and "AWS_PROFILE" in line, r.stderr
    assert len(line) < 400, line
