"""Resource namespaces of the client (``client.api_keys``).

- ``keys``: :class:`AsyncAPIKeys`, the key endpoints and their bulk twins;
- ``_usecases``: the seeds' use cases it inherits (rotate, over_limit, ...);
- ``_base``: what every resource shares: the client's options read at call time, one
  request, one bulk runner.
"""

from modelgates_async.resources.keys import AsyncAPIKeys

__all__ = ["AsyncAPIKeys"]
