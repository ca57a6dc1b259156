"""The perception server: an aiohttp app with a dynamic batcher per operation (`reconstruct`, `segment`),
each in front of the backend configured for it (`synthetic`, `costmodel`, `sam3`, `da3`; several in one
process, routed by `_routing`). Start it in-process with
`servers.perception.server.serve_perception(...)` or as `python -m servers.perception`.
"""
