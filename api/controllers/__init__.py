"""The HTTP layer: one Litestar controller per resource, each handler one service call.

Every handler states its access scope in ``opt`` (see ``api.auth``) and the problems it
can answer with (``api.problems.problem_responses``), so the OpenAPI document is complete.
"""
