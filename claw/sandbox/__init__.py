"""claw/sandbox"""
