"""The `depth_order` measurement."""

from __future__ import annotations

from servers.mockllm.policies.scripted.cells._kernel import InputImages, letters, names, np, recon, segs

# cell
fi = InputImages[0].index
depth = {n: float(np.median(recon.depth[fi][segs[n].union(fi)])) for n in names}
for n, d in depth.items():
    print(f"{n}: median depth {d:.2f} m")
result = letters[min(depth, key=depth.get)]
print(f"RESULT: {result}")
