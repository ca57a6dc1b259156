"""Perception backends, one module per name; each ends with `backend_class = ...` (constructed as
`backend_class(config: PerceptionConfig)`) and implements `claw.wire.perception.PerceptionBackend`.
"""
