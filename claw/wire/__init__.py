"""Every record that crosses a process boundary, as msgspec Structs (msgpack or JSON on the wire, never
pickle): `kernel` (what goes into a kernel and what a cell reports back), `template` (the sandbox host's
frames to the kernel template process), `perception` (the perception server's requests and responses),
`vlm` (the kernel's `vlm.ask` bridge to the runtime), `ray` (samples out to and events back from Ray
workers) and `names` (the policy, backend and noise names the helper servers serve on their command
lines).

Modules here import only msgspec, numpy and claw's leaf modules (`claw.suite`, `claw.events`), so the
kernel side (`claw.tools`) can use them without loading the sandbox, the runtime or the model client.
"""
