"""The command-line client: ``reasonflow login``, ``batch …`` and ``import``
against a running server, over its HTTP API."""

from reasonflow.entrypoints.client.commands import register_client_commands, run_client

__all__ = ["register_client_commands", "run_client"]
