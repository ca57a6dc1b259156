"""The perceive cell of camera-only questions: reconstruct and print the camera positions."""

from __future__ import annotations

from servers.mockllm.policies.scripted.cells._kernel import InputImages, Reconstruct, np

# cell
# stage: perceive
frames = InputImages
recon = Reconstruct(frames)
print("reconstructed frames", recon.frame_indices)
for fi in recon.frame_indices:
    print(fi, "camera at", np.round(recon.extrinsics[fi][:3, 3], 3))
