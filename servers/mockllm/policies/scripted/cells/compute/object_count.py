"""The `object_count` measurement."""

from __future__ import annotations

from servers.mockllm.policies.scripted.cells._kernel import frames, names, segs

# cell
ids = set()
for fi in segs[names[0]].frame_indices:
    ids.update(int(i) for i in segs[names[0]].object_ids[fi])
print(f"distinct {names[0]} track ids over {len(frames)} frames: {sorted(ids)}")
if not ids:
    print("CHECK FAILED: no instance found; retry the segmentation")
else:
    result = len(ids)
    print(f"RESULT: {result}")
