"""Run by test_process.py: clients, generators and threads left open at interpreter exit."""

from __future__ import annotations

import gc
import sys
import threading

from modelgates_async import KeySpec, ModelGates

kept: list[object] = []


def main(base_url: str, api_key: str) -> None:
    mg = ModelGates(api_key=api_key, base_url=base_url)
    created = mg.api_keys.create_many([KeySpec(f"k{i}") for i in range(3)])
    created.raise_for_errors()
    generator = mg.api_keys.iter(include_disabled=True)
    next(generator)
    kept.extend([mg, generator])  # open at exit: client, half-consumed generator
    dropped = ModelGates(api_key=api_key, base_url=base_url)
    dropped.api_keys.list()
    del dropped  # collected open
    gc.collect()
    worker = threading.Thread(target=mg.api_keys.get_current_key_metadata, daemon=True)
    worker.start()
    worker.join()
    print("done", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
