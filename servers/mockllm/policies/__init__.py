"""The mock server's policies, one module each; `servers.mockllm.policy` maps their names to classes."""
