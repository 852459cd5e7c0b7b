"""The HTTP and WebSocket edge: authenticate, validate, hand over to the services."""
