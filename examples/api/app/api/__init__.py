"""HTTP and WebSocket controllers of the example API."""
