"""The engine that runs an evaluation: `runner.run_eval` (and `embed.Runner` for embedding programs) lays
out the run directory (`layout`), starts the services (`local`, `perception_service`, `vlm_server`),
checks them (`preflight`) and runs each episode as a task (`episode_task`) whose pure state machine
(`episode`, over the records of `episode_actions`) is driven by `driver` against a kernel and a model;
every step is a typed event on the bus (`bus`, `sinks`, `progress`), and the event log is read back by
`tail`, `transcript`, `replay`, `facts` and `tables`. Nothing is re-exported here: import from the
module that owns a name.
"""
