"""The `appearance_order` measurement."""

from __future__ import annotations

from servers.mockllm.policies.scripted.cells._kernel import letters, names, segs

# cell
first = {}
for n in names:
    shown = [fi for fi in segs[n].frame_indices if segs[n].count(fi) and segs[n].union(fi).sum() >= 150]
    first[n] = min(shown) if shown else 10**9
order = sorted(names, key=lambda n: first[n])
print("first frame per object:", first)
result = letters[', '.join(order)]
print(f"RESULT: {result}")
