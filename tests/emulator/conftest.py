"""Fixtures of the emulator's own tests; the emulator itself is started by tests/conftest.py."""

import pytest

from support import TIME_SCALE


@pytest.fixture
def emu(emulator):
    """A clean emulator for each test (moto state, call log and settings reset to the defaults)."""
    emulator.reset()
    emulator.config(fault_rate=0.0, iam_propagation=False, codebuild_fail_phase=None, time_scale=TIME_SCALE,
                    cni_leftover_enis=1, hold=[], deny=[], model_validation=True)
    return emulator
