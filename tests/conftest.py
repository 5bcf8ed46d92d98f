"""Fixtures shared by every Python suite under tests/."""

import pytest

from support import start_emulator, stop


@pytest.fixture(scope="session")
def emulator():
    """One emulator for the whole test session."""
    proc, emu = start_emulator()
    yield emu
    stop(proc)
