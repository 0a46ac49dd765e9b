"""Resource namespaces of the client (``client.api_keys``).

- ``keys``: :class:`AsyncAPIKeys`, put together from the three parts below;
- ``_endpoints``: the single calls (list, iter, create, get, update, delete, current key);
- ``_bulk_calls``: their bulk twins (``*_many``, ``*_many_iter``);
- ``_usecases``: the seeds' use cases (rotate, over_limit, ...);
- ``_paging``: ``iter()``'s walk over pages that change under it (its bound is stated there);
- ``_base``: what every resource shares: the client's options read at call time, one
  request, one bulk runner;
- ``_raw``: ``with_raw_response``, every endpoint with its status and headers.
"""

from modelgates_async.resources.keys import AsyncAPIKeys

__all__ = ["AsyncAPIKeys"]
