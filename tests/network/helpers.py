"""Helpers of the proxy and TLS tests: a local ModelGates server behind TLS."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

import trustme


@dataclass
class HTTPSServer:
    """A local ModelGates server behind TLS."""

    base_url: str
    management_key: str
    ca: trustme.CA

    def client_context(self) -> ssl.SSLContext:
        """An SSLContext that trusts only the throwaway CA."""
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context
