"""Run by test_process.py: a client used before os.fork() is used again in the child."""

from __future__ import annotations

import os
import sys
import warnings

from modelgates_async import ModelGates, _loop


def main(base_url: str, api_key: str, child_exit: str) -> None:
    mg = ModelGates(api_key=api_key, base_url=base_url)
    created = mg.api_keys.create("before-fork")
    parent_loop = _loop._runtime.loop
    # Python 3.12+ warns on any fork() of a multi-threaded process, and the facade's loop
    # thread is one; that warning is about the caller's fork, so only it is silenced here.
    warnings.filterwarnings(
        "ignore", message=r"This process \(pid=\d+\) is multi-threaded", category=DeprecationWarning
    )
    pid = os.fork()
    if pid == 0:
        key = mg.api_keys.get(created.data.hash)  # a fresh loop and session, on first use
        assert _loop._runtime.loop is not parent_loop
        print(f"child got {key.name}", flush=True)
        if child_exit == "os._exit":
            os._exit(0)
        sys.exit(0)  # the interpreter's full shutdown: atexit, finalizers, warnings
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, status
    assert mg.api_keys.get(created.data.hash).name == "before-fork"  # parent unharmed
    print("parent ok", flush=True)
    mg.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
