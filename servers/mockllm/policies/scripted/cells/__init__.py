"""The scripted policy's cells as Python files that ruff and mypy read. Each file's import block (up to
its `# cell` line) declares the kernel names the cell uses, for the checkers only: rendering
(`servers.mockllm.policies.scripted.render`) drops it and fills in the upper-case names (`NAMES`,
`PROMPTS`, `SCALE`, `SIGN`, `IMAGE`) per question.
"""
