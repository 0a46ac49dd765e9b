"""Resource namespaces of the client (``client.api_keys``)."""

from modelgates_async.resources.keys import AsyncAPIKeys

__all__ = ["AsyncAPIKeys"]
