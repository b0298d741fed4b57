"""API keys with scopes: storage, the route-to-scope rules, and the ASGI middleware."""
