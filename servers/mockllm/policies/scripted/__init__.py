"""`ScriptedPolicy`: a model stand-in that solves synthetic spatial questions the way a capable agent
does, through the kernel and its tools, reading only the transcript.

It recognises the request kind by its system prompt (planner, code agent, or no-tool chain of thought)
and the question by its wording. A code episode runs three stages, each one cell: `perceive` (segment
the named objects in every frame, reconstruct, gather world points, show a mask overlay, print what was
found), `compute` (measure with the geometry and print `RESULT: <value>`), and `answer`
(`ReturnAnswer(<value read back from the observation>)`). Its cells carry a `# stage:` comment, which is
how it knows, from its own earlier turn, where it is. In a deterministic subset of episodes the first
`compute` cell uses an undefined name and raises; at `mistake_rate` it makes a quieter mistake that its
own printed check exposes (wrong axis sign, a metres/centimetres slip, a prompt that finds nothing). It
reads the error or the `CHECK FAILED` line and writes the corrected cell, so self-correction shows in the
event log. The other interfaces get what a model would give them: the single-pass prompt one program that
measures and submits, the tool-call interface one call per turn (a sequence planned from the question,
the answer reasoned from the printed results), the no-tool prompt and the forced-answer turn a
`Final answer:` line (the last printed RESULT, else a guess). Everything is deterministic given
(messages, seed).

Modules: `question` (reading the question), `transcript` (reading the episode so far), `render` (cells
from the Python files under `cells/`, and the code-turn text), `policy` (`ScriptedPolicy` and the code
episode's stages), `toolcalls` (the tool-call interface).
"""

from __future__ import annotations

from servers.mockllm.policies.scripted.policy import ScriptedPolicy as ScriptedPolicy
from servers.mockllm.policies.scripted.question import Parsed as Parsed
from servers.mockllm.policies.scripted.question import parse_question as parse_question

__all__ = ["Parsed", "ScriptedPolicy", "parse_question"]
