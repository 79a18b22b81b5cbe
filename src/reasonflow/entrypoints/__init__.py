"""Entrypoints: settings, the composition root, HTTP, CLI and the browser UI."""
