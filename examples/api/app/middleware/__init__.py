"""Middleware of the example API."""
