"""Realistic AWS durations, in seconds at time scale 1.0 (one table, one place).

Every lifecycle the emulator simulates takes its duration from here, multiplied at run time by
the configured time scale (``--time-scale``, default 0.05). Values are typical figures, not
worst cases; the sources are AWS documentation and widely reported measurements. The table is
src/report/durations.toml, with a source for each figure.
"""

import tomllib
from pathlib import Path

# The table lives with the tool, which estimates its progress from the same figures.
with open(Path(__file__).resolve().parents[2] / "src" / "report" / "durations.toml", "rb") as f:
    DURATIONS = tomllib.load(f)

# CodeBuild phases in order with typical seconds each (a small docker build on
# BUILD_GENERAL1_SMALL; PROVISIONING ~20-30 s per the CodeBuild User Guide build-phase
# transitions, the rest depend on the buildspec).
CODEBUILD_PHASES = [
    ("SUBMITTED", 1.0),
    ("QUEUED", 2.0),
    ("PROVISIONING", 25.0),
    ("DOWNLOAD_SOURCE", 5.0),
    ("INSTALL", 10.0),
    ("PRE_BUILD", 10.0),
    ("BUILD", 120.0),
    ("POST_BUILD", 20.0),
    ("UPLOAD_ARTIFACTS", 2.0),
    ("FINALIZING", 3.0),
    ("COMPLETED", 0.0),
]
