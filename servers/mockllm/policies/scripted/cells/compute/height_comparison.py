"""The `height_comparison` measurement."""

from __future__ import annotations

from servers.mockllm.policies.scripted.cells._kernel import SIGN, names, np, pts

# cell
tops = {n: SIGN * float(np.percentile(pts[n][:, 1], 99.5)) for n in names}
print("tops above the floor (m):", {n: round(v, 3) for n, v in tops.items()})
if min(tops.values()) < 0:
    print("CHECK FAILED: a top below the floor; world +Y is up, not down")
else:
    result = 'yes' if tops[names[0]] > tops[names[1]] else 'no'
    print(f"RESULT: {result}")
