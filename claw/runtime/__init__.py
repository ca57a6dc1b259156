"""claw/runtime"""
