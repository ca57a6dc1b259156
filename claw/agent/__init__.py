"""What the model sees and how its replies are read. The prompts: `prompts` (how an episode opens),
`guide` (the standing guidance), `toolref` and `examples` (the tool contracts and worked examples, from
the kernel code), `input_map` (the first message's input description) and `observations` (the messages
appended turn by turn), with `markers` (the fixed strings they share with the parser and the mock
policies). The replies: `parsing` (code turns and final answers) and `toolcall` (function calls as
cells). And `interfaces`: one strategy per action interface (code, single-pass, tool-call, cot). Nothing
here does I/O; `claw.runtime` drives it and `claw.llm` carries the messages.
"""
