"""A small but complete patera API; the application lives in the ``app`` package."""
