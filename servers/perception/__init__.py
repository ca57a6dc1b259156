"""The perception server: an aiohttp app with a dynamic batcher per operation in front of one backend
(`synthetic`, `costmodel`, `sam3`, `da3`), chosen by name. Start it in-process with
`servers.perception.server.serve_perception(...)` or as `python -m servers.perception`.
"""
