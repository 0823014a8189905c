"""CLI commands of the example API (``python -m examples.api.cli …``)."""
