"""patera: a small, fast, pure-ASGI web framework."""
