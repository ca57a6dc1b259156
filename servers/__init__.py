"""Processes that run beside the claw runtime: the perception server and the mock LLM server."""
