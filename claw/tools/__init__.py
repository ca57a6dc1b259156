"""claw/tools"""
