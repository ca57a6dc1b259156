"""The mock LLM server: an OpenAI-compatible HTTP server whose replies come from a named `Policy`, with
fault injection and a latency model, so the whole claw pipeline runs end to end with no GPU and no model.
"""
