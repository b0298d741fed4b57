"""HTTP routes. Routes are thin: parse, call a service function, return a schema."""
