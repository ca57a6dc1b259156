"""What the model sees and how its replies are read: the prompts (`prompts`, `observations`, `markers`),
the reply parser (`parsing`), the tool-call mapping (`toolcall`) and one strategy per action interface
(`interfaces`). Everything here is pure: no I/O, no event loop; `claw.runtime` drives it and `claw.llm`
carries the messages.
"""
