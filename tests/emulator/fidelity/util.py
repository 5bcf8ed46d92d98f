"""Helpers shared by the patches."""

from typing import Callable


def wrap(cls: type, name: str, make: Callable[[Callable], Callable]) -> None:
    """Replace cls.name with make(original): patches keep moto's behaviour and add AWS's."""
    original = getattr(cls, name)
    setattr(cls, name, make(original))
