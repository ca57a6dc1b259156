"""claw/llm"""
