"""Tests of the local ModelGates server (modelgates_async.server)."""
