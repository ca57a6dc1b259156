"""`tools.Mask`: 2-D operations on (H, W) bool pixel masks (area, box, centroid, IoU, morphology,
largest connected component). Pure numpy/scipy in the kernel.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["Mask"]

BoolMask = npt.NDArray[np.bool_]


def _mask(mask: npt.ArrayLike) -> BoolMask:
    array = np.asarray(mask)
    if array.ndim != 2:
        raise ValueError(f"expected an (H, W) mask, got shape {array.shape}; pick one with seg.mask(fi, k)")
    return array.astype(bool, copy=False)


def _nonempty(mask: npt.ArrayLike, what: str) -> BoolMask:
    array = _mask(mask)
    if not array.any():
        raise ValueError(f"{what} of an empty mask is undefined; check Mask.area(mask) > 0 first")
    return array


class Mask:
    """Pixel-mask helpers. All methods are static: `Mask.area(m)`."""

    @staticmethod
    def area(mask: npt.ArrayLike) -> int:
        """Number of True pixels.

        Raises:
            ValueError: the mask is not 2-D.
        """
        return int(np.count_nonzero(_mask(mask)))

    @staticmethod
    def bbox(mask: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Tight pixel box [x1, y1, x2, y2] of the True pixels; x2/y2 are exclusive (x2 - x1 = width).

        Raises:
            ValueError: the mask is empty or not 2-D.
        """
        ys, xs = np.nonzero(_nonempty(mask, "bbox"))
        return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], dtype=np.int64)

    @staticmethod
    def centroid(mask: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Mean pixel position [x, y] of the True pixels.

        Raises:
            ValueError: the mask is empty or not 2-D.
        """
        ys, xs = np.nonzero(_nonempty(mask, "centroid"))
        return np.array([xs.mean(), ys.mean()], dtype=np.float64)

    @staticmethod
    def iou(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
        """Intersection over union of two masks of the same shape (0 when both are empty).

        Raises:
            ValueError: the shapes differ.
        """
        first, second = _mask(a), _mask(b)
        if first.shape != second.shape:
            raise ValueError(f"iou needs masks of one shape, got {first.shape} and {second.shape}")
        union = int(np.count_nonzero(first | second))
        return 0.0 if union == 0 else int(np.count_nonzero(first & second)) / union

    @staticmethod
    def erode(mask: npt.ArrayLike, iterations: int = 1) -> BoolMask:
        """Shrink the mask by `iterations` pixels (3x3 cross structuring element)."""
        from scipy import ndimage  # imported on first use, like every scipy module here

        return np.asarray(ndimage.binary_erosion(_mask(mask), iterations=iterations), dtype=bool)

    @staticmethod
    def dilate(mask: npt.ArrayLike, iterations: int = 1) -> BoolMask:
        """Grow the mask by `iterations` pixels (3x3 cross structuring element)."""
        from scipy import ndimage

        return np.asarray(ndimage.binary_dilation(_mask(mask), iterations=iterations), dtype=bool)

    @staticmethod
    def largest_component(mask: npt.ArrayLike) -> BoolMask:
        """Only the largest 8-connected blob of the mask (an empty mask stays empty)."""
        from scipy import ndimage

        array = _mask(mask)
        labels, count = ndimage.label(array, structure=np.ones((3, 3), dtype=bool))
        if count == 0:
            return np.zeros_like(array)
        sizes = np.bincount(labels.ravel())[1:]
        return np.asarray(labels == int(np.argmax(sizes)) + 1, dtype=bool)
