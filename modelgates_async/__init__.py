"""modelgates-async: the async-first Python SDK for ModelGates API-key management."""

from modelgates_async._version import __version__

__all__ = ["__version__"]
