"""The harness's handle on a benchmark server running in its own process."""

from __future__ import annotations

import os
import subprocess
import sys
from types import TracebackType
from typing import Any

from benchmarks.seed import child_env

__all__ = ["BenchServer", "process_cpu_seconds", "split_cpus", "wait_or_kill"]

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of another process so far (Linux ``/proc``), or None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the command name: state is field 3, utime 14 and stime 15 (1-based).
    return (int(fields[11]) + int(fields[12])) / _TICKS


def split_cpus() -> tuple[list[int], list[int]] | None:
    """(the server's CPUs, the clients') when this process may use two or more, else None.

    The server gets the first CPU, the client workers the others: the client's CPU figure
    then no longer depends on which process the scheduler put where, and the two never
    compete for one core's caches.
    """
    if not hasattr(os, "sched_getaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    return (cpus[:1], cpus[1:]) if len(cpus) >= 2 else None


def wait_or_kill(process: subprocess.Popen[Any], timeout: float) -> None:
    """Wait up to ``timeout`` seconds for a process asked to stop, then kill it."""
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class BenchServer:
    """``python -m benchmarks.serve`` in a child process: ``with BenchServer(seed=1000) as s``.

    ``cpus``, when given, pins the server to those CPUs (see :func:`split_cpus`).
    """

    def __init__(
        self, *, seed: int = 0, rate_limit: float | None = None, cpus: list[int] | None = None
    ) -> None:
        self.seed = seed
        self.rate_limit = rate_limit
        self.cpus = cpus
        self.base_url = ""
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> BenchServer:
        """Start the server and wait until it answers."""
        command = [sys.executable, "-m", "benchmarks.serve", "--seed", str(self.seed)]
        if self.rate_limit is not None:
            command += ["--rate-limit", str(self.rate_limit)]
        if self.cpus:
            command += ["--cpus", ",".join(map(str, self.cpus))]
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=child_env()
        )
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("READY "):
            process.kill()
            process.wait()
            raise RuntimeError(f"the benchmark server did not start: {line!r}")
        self.base_url = line.split()[1]
        self._process = process
        return self

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self._process is not None
        return self._process.pid

    def cpu_seconds(self) -> float | None:
        """CPU seconds the server process has used so far."""
        return process_cpu_seconds(self.pid)

    def stop(self) -> None:
        """Stop the server (closing its stdin) and wait for it."""
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.close()
        wait_or_kill(process, 10)
        process.stdout.close()

    def __enter__(self) -> BenchServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
