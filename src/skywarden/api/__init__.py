"""The live service's ASGI app: REST, WebSockets, metrics and OpenAPI over a Runtime.

:func:`create_app` is the one entry point (``skywarden serve`` runs it under uvicorn);
docs/API.md is the contract it keeps.
"""

from .app import create_app

__all__ = ["create_app"]
