"""The JSON API under /api/v1: bearer tokens, RFC 9457 problems, an OpenAPI document."""
