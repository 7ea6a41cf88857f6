"""The API's use cases, one module per resource; no Litestar here.

Each function takes an Engine (and what else it needs) and returns the pydantic shapes of
``schemas.models``, or raises an error from ``api.services.errors``. The HTTP layer maps
those errors to problem+json in one place (``api.problems``), so these functions can be
called from the CLI, tests or a Lambda handler without a web framework.
"""
