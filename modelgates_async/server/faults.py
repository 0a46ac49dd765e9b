"""Scripted faults: the next N matching requests answer an error, wait, or hang up."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

__all__ = ["Fault", "FaultInjector", "normalize_path_pattern"]

API_PREFIX = "/api/v1"


def normalize_path_pattern(pattern: str) -> str:
    """Anchor a path pattern: ``/keys*`` or ``keys*`` means ``/api/v1/keys*``."""
    if pattern.startswith(("*", API_PREFIX + "/")) or pattern == API_PREFIX:
        return pattern
    return f"{API_PREFIX}/{pattern.lstrip('/')}"


@dataclasses.dataclass(slots=True)
class Fault:
    """What the next ``times`` requests matching ``method`` and ``path`` get.

    In order: wait ``delay`` seconds; then hang up without answering if ``drop``; else answer
    ``status`` with ``headers`` and ``body`` (an error body in the API's shape by default) if
    ``status`` is set; else go on to the real handler (a slow response).
    """

    path: str = "*"
    method: str = "*"
    times: int = 1
    status: int | None = None
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    body: Any = None
    delay: float = 0.0
    drop: bool = False

    def __post_init__(self) -> None:
        self.path = normalize_path_pattern(self.path)
        self.method = self.method.upper()
        if self.times < 1:
            raise ValueError("times must be at least 1")
        if self.delay < 0:
            raise ValueError("delay must not be negative")
        if self.status is not None and not 100 <= self.status <= 599:
            raise ValueError("status must be an HTTP status code")
        if self.status is None and not self.drop and self.delay == 0:
            raise ValueError("a fault needs a status, a delay or drop=True")
        self.headers = dict(self.headers)

    def matches(self, method: str, path: str) -> bool:
        """Whether a request with this method and path is subject to the fault."""
        return (self.method in ("*", method)) and fnmatchcase(path, self.path)


class FaultInjector:
    """An ordered queue of faults; the first matching one with uses left applies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def __bool__(self) -> bool:
        return bool(self._faults)

    def add(self, fault: Fault) -> Fault:
        """Queue a fault after the ones already queued."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """Use up one application of the first fault matching the request, if any."""
        with self._lock:
            for i, fault in enumerate(self._faults):
                if fault.matches(method, path):
                    fault.times -= 1
                    if fault.times == 0:
                        del self._faults[i]
                    return fault
        return None

    def pending(self) -> list[Fault]:
        """Return a copy of the queued faults."""
        with self._lock:
            return [dataclasses.replace(f) for f in self._faults]

    def clear(self) -> None:
        """Drop every queued fault."""
        with self._lock:
            self._faults.clear()
