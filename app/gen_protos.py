"""Generates the Python gRPC stubs from proto/ into app/generated/.

The stubs are build output, not source: the Dockerfile runs this at image build time, and the
server, the client and the tests call ensure() so a fresh clone works without a manual step.
grpcio-tools is imported lazily because the runtime image does not ship it.
"""

import importlib.resources
import os
import re
import sys
import tempfile
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent
PROTO_DIR = APP_DIR.parent / "proto"
OUT_DIR = APP_DIR / "generated"
PROTOS = ["helloworld.proto"]


def _outputs():
    stems = [Path(p).stem for p in PROTOS]
    files = [OUT_DIR / f"{s}_pb2{suffix}.py" for s in stems for suffix in ("", "_grpc")]
    return files + [OUT_DIR / "__init__.py"]


def stale():
    outputs = _outputs()
    if not all(f.exists() for f in outputs):
        return True
    if not PROTO_DIR.is_dir():
        return False  # runtime image: stubs were generated at build time, protos are not shipped
    newest_proto = max((PROTO_DIR / p).stat().st_mtime for p in PROTOS)
    return min(f.stat().st_mtime for f in outputs) < newest_proto


def generate():
    from grpc_tools import protoc

    include = str(importlib.resources.files("grpc_tools") / "_proto")
    # Generate into a scratch directory and move the files in, so a concurrent importer never
    # sees a half-written module.
    with tempfile.TemporaryDirectory(prefix=".gen-", dir=APP_DIR) as tmp:
        args = [
            "grpc_tools.protoc",
            f"-I{PROTO_DIR}",
            f"-I{include}",
            f"--python_out={tmp}",
            f"--grpc_python_out={tmp}",
            *(str(PROTO_DIR / p) for p in PROTOS),
        ]
        if protoc.main(args) != 0:
            raise RuntimeError(f"protoc failed on {PROTOS} in {PROTO_DIR}")
        # grpc_tools writes `import helloworld_pb2 as ...`, which only works with the output
        # directory itself on sys.path; make it a package-relative import instead.
        for f in Path(tmp).glob("*_pb2_grpc.py"):
            text = re.sub(r"^import (\w+_pb2) as ", r"from . import \1 as ", f.read_text(), flags=re.M)
            f.write_text(text)
        Path(tmp, "__init__.py").write_text("")
        OUT_DIR.mkdir(exist_ok=True)
        # __init__.py last: stale() treats the package as complete once it is present.
        for f in sorted(Path(tmp).iterdir(), key=lambda p: p.name == "__init__.py"):
            os.replace(f, OUT_DIR / f.name)


def ensure():
    if stale():
        generate()


if __name__ == "__main__":
    generate()
    print(f"generated stubs in {OUT_DIR}", file=sys.stderr)
