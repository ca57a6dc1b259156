"""Point-cloud helpers the perceive cell defines in the kernel."""

from __future__ import annotations

from servers.mockllm.policies.scripted.cells._kernel import Geometry, math, np, recon, scipy


# cell
def clean_points(seg, frames_used):
    """World points of every instance in `seg`, without far outliers and isolated (leaked) points."""
    chunks = []
    for fi in frames_used:
        if seg.count(fi) == 0:
            continue
        chunks.append(Geometry.masked_points(recon, fi, seg.union(fi)))
    if not chunks:
        return np.zeros((0, 3), dtype=np.float32)
    pts = np.concatenate(chunks)
    dist = np.linalg.norm(pts - np.median(pts, axis=0), axis=1)
    pts = pts[dist <= 2.5 * np.percentile(dist, 90) + 0.1]
    # At most ~8000 points: the ball query costs points x neighbours, and a near object seen in several
    # frames gives tens of thousands of points with thousands of neighbours each (a minute of CPU).
    pts = pts[:: -(-len(pts) // 8000)]
    support = scipy.spatial.cKDTree(pts).query_ball_point(pts, r=0.05, return_length=True)
    return pts[support >= min(8, int(np.median(support)))]


def upright_box(pts):
    """Gravity-aligned box of a point cloud: (centre, sides) with sides = (a, height, b), a >= b."""
    xz = pts[:, [0, 2]][:: max(1, len(pts) // 4000)]
    best = None
    for deg in np.arange(0.0, 90.0, 0.5):
        a = math.radians(deg)
        rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        q = xz @ rot
        lo, hi = np.percentile(q, 0.2, axis=0), np.percentile(q, 99.8, axis=0)
        if best is None or np.prod(hi - lo) < best[0]:
            best = (np.prod(hi - lo), hi - lo, ((lo + hi) / 2) @ rot.T)
    y0, y1 = (float(v) for v in np.percentile(pts[:, 1], [0.2, 99.8]))
    sides = np.array([max(best[1]), y1 - y0, min(best[1])])
    return np.array([best[2][0], (y0 + y1) / 2, best[2][1]]), sides
