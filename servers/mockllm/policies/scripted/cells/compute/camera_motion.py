"""The `camera_motion` measurement."""

from __future__ import annotations

from servers.mockllm.policies.scripted.cells._kernel import InputImages, letters, np, recon

# cell
f0, f1 = InputImages[0].index, InputImages[1].index
c0, c1 = recon.extrinsics[f0], recon.extrinsics[f1]
move = c0[:3, :3].T @ (c1[:3, 3] - c0[:3, 3])
print(f"camera moved {np.round(move, 3)} in camera-1 axes (x right, y down, z forward)")
if abs(move[0]) > abs(move[2]):
    word = "right" if move[0] > 0 else "left"
else:
    word = "forward" if move[2] > 0 else "backward"
result = letters[word]
print(f"RESULT: {result}")
