"""The `camera_rotation` measurement."""

from __future__ import annotations

from servers.mockllm.policies.scripted.cells._kernel import InputImages, letters, math, recon

# cell
f0, f1 = InputImages[0].index, InputImages[1].index
forward = recon.extrinsics[f0][:3, :3].T @ recon.extrinsics[f1][:3, 2]
turn = math.degrees(math.atan2(forward[0], forward[2]))
print(f"camera 2 looks {turn:.1f} degrees from camera 1's forward (positive = to the right)")
result = letters['right' if turn > 0 else 'left']
print(f"RESULT: {result}")
