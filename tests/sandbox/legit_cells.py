# ruff: noqa: E501 - a data file: one cell per line reads best
"""A corpus of legitimate analysis cells, the kind a model writes for a spatial question: numpy and scipy
geometry, image statistics on `InputImages`, plotting with matplotlib and drawing with PIL, bookkeeping
with the standard library. The AST policy must let every one through (false-positive rate 0) and each
must run without error in a confined kernel.

Each cell stands alone: it uses only the names a kernel binds before the first cell (np, math, scipy,
plt, InputImages, Metadata, show) and what it defines or imports itself.
"""

from __future__ import annotations

_NUMPY = [
    "a = np.arange(12).reshape(3, 4)\nprint(a.sum(axis=0), a.mean())",
    "x = np.linspace(0, 1, 5)\nprint(np.round(x ** 2, 3))",
    "m = np.eye(3)\nm[0, 2] = 4\nprint(np.linalg.inv(m))",
    "pts = np.array([[0, 0, 0], [1, 0, 0], [0, 2, 0]], float)\nprint(np.linalg.norm(pts[1] - pts[2]))",
    "v = np.array([3.0, 4.0])\nprint(v / np.linalg.norm(v))",
    "a = np.random.default_rng(0).normal(size=100)\nprint(round(float(a.std()), 3))",
    "a = np.array([5, 1, 4])\nprint(np.argsort(a), np.argmax(a), np.argmin(a))",
    "a = np.zeros((4, 4), bool)\na[1:3, 1:3] = True\nprint(np.argwhere(a))",
    "a = np.array([1, 2, 2, 3, 3, 3])\nvalues, counts = np.unique(a, return_counts=True)\nprint(values, counts)",
    "r = np.deg2rad(30)\nR = np.array([[np.cos(r), -np.sin(r)], [np.sin(r), np.cos(r)]])\nprint(R @ [1, 0])",
    "a = np.arange(10)\nprint(a[a % 3 == 0], np.where(a > 6)[0])",
    "a = np.array([[1, 2], [3, 4]])\nw, v = np.linalg.eig(a)\nprint(np.round(w, 3))",
    "A = np.array([[2, 1], [1, 3]], float)\nb = np.array([1, 2], float)\nprint(np.linalg.solve(A, b))",
    "u, s, vt = np.linalg.svd(np.random.default_rng(1).random((4, 3)))\nprint(s.shape, vt.shape)",
    "print(np.cross([1, 0, 0], [0, 1, 0]), np.dot([1, 2], [3, 4]))",
    "a = np.arange(6).reshape(2, 3)\nprint(a.T, a.ravel(), a.flatten().tolist())",
    "a = np.clip(np.array([-2, 0.5, 3]), 0, 1)\nprint(a)",
    "print(np.percentile(np.arange(101), [5, 50, 95]))",
    "a = np.array([1.0, np.nan, 3.0])\nprint(np.nanmean(a), np.isnan(a).sum())",
    "grid = np.meshgrid(np.arange(3), np.arange(2))\nprint(grid[0].shape)",
    "print(np.histogram([1, 2, 2, 3, 5], bins=3))",
    "a = np.stack([np.ones(3), np.zeros(3)])\nb = np.concatenate([a, a], axis=1)\nprint(b.shape)",
    "print(np.isclose(0.1 + 0.2, 0.3), np.allclose([1, 2], [1, 2.0000001]))",
    "a = np.array([3, 1, 2])\na.sort()\nprint(a, np.cumsum(a), np.diff(a))",
    "print(np.median([4, 1, 7, 3]), np.var([1, 2, 3, 4]))",
    "a = np.arange(24).reshape(2, 3, 4)\nprint(a.transpose(2, 0, 1).shape, a[..., 0])",
    "print(np.polyfit([0, 1, 2], [1, 3, 5], 1))",
    "print(np.interp(2.5, [1, 2, 3], [10, 20, 30]))",
    "m = np.array([[1, 2], [3, 4]])\nprint(np.trace(m), np.linalg.det(m).round(3))",
    "a = np.array([[1, 0], [0, 1]])\nprint(np.kron(a, np.ones((2, 2))).shape)",
    "q = np.quantile(np.random.default_rng(3).random(50), 0.9)\nprint(0 < q < 1)",
    "a = np.ma.masked_array([1, 2, 3], mask=[0, 1, 0])\nprint(a.mean())",
    "a = np.full((2, 2), 7)\nprint(a, np.empty_like(a).shape)",
    "a = np.array([1, 2, 3])\nprint(np.pad(a, 2, mode='edge'))",
    "print(np.einsum('ij,j->i', np.eye(2), [3, 4]))",
    "a = np.array([2, 4, 8])\nprint(np.log2(a), np.exp(0), np.sqrt(a))",
    "print(np.round(np.degrees(np.arctan2(1, 1)), 2))",
    "a = np.arange(5)\nprint(np.roll(a, 2), np.flip(a))",
    "print(np.tile([1, 2], 3), np.repeat([1, 2], 2))",
    "a = np.array([[1, 5], [2, 3]])\nprint(a.max(axis=1), a.min(), a.ptp() if hasattr(a, 'ptp') else np.ptp(a))",
    "vals = np.array([0.2, 0.7, 0.1])\nprint(int(np.argmax(vals)), chr(65 + int(np.argmax(vals))))",
    "a = np.array([1, 2, 3], dtype=np.float32)\nprint(a.dtype, a.astype(np.int64).dtype)",
    "b = np.array([True, False, True])\nprint(b.any(), b.all(), np.count_nonzero(b))",
    "pts = np.random.default_rng(2).random((10, 3))\ncentroid = pts.mean(axis=0)\nprint(centroid.shape)",
    "x = np.array([0, 1, 2])\ny = np.array([0, 1, 4])\nprint(np.trapezoid(y, x) if hasattr(np, 'trapezoid') else 0)",
    "a = np.arange(9).reshape(3, 3)\nprint(np.triu(a), np.diag(a))",
    "print(np.searchsorted([1, 3, 5, 7], 4))",
    "a = np.array([[3, 1], [1, 2]])\nprint(np.linalg.eigh(a)[0].round(3))",
    "print(np.linalg.matrix_rank(np.ones((3, 3))))",
    "print(np.array_equal([1, 2], [1, 2]), np.hypot(3, 4))",
]

_IMAGES = [
    "img = InputImages[0].array\nprint(img.shape, img.dtype)",
    "print(len(InputImages), [f.index for f in InputImages])",
    "img = InputImages[0].array.astype(float)\nprint(img.mean(axis=(0, 1)).round(1))",
    "gray = InputImages[0].array.mean(axis=2)\nprint(gray.shape, float(gray.max()) <= 255)",
    "h, w = InputImages[0].array.shape[:2]\nprint('aspect', round(w / h, 3))",
    "diff = np.abs(InputImages[0].array.astype(int) - InputImages[1].array.astype(int))\nprint(diff.mean() > 0)",
    "img = InputImages[1].array\ncrop = img[4:12, 8:20]\nprint(crop.shape)",
    "img = InputImages[0].array\nprint(img[..., 0].mean() > img[..., 2].mean())",
    "bright = InputImages[0].array.sum(axis=2) > 380\nprint(int(bright.sum()))",
    "frames = [f.array for f in InputImages]\nstack = np.stack(frames)\nprint(stack.shape)",
    "print([f.timestamp_s for f in InputImages])",
    "print(Metadata.num_images, Metadata.is_video, Metadata.options)",
    "print(Metadata.answer_format, Metadata.extra.get('scene'))",
    "print(Metadata.fps, Metadata.duration_s, Metadata.total_frames)",
    "print([v.name for v in Metadata.videos])",
    "img = InputImages[0].array\nshow(img, 'first frame')",
    "img = InputImages[1].array\nshow(img[::2, ::2], caption='half size')",
    "from PIL import Image\nimg = Image.fromarray(InputImages[0].array)\nprint(img.size, img.mode)",
    "from PIL import Image\nsmall = Image.fromarray(InputImages[0].array).resize((16, 12))\nprint(small.size)",
    "from PIL import Image, ImageDraw\nimg = Image.fromarray(InputImages[0].array)\n"
    "ImageDraw.Draw(img).rectangle([2, 2, 10, 10], outline=(255, 0, 0))\nshow(img, 'box')",
    "from PIL import ImageFont\nfont = ImageFont.load_default()\nprint(font.getbbox('A'))",
    "from PIL import Image, ImageDraw, ImageFont\nimg = Image.new('RGB', (64, 32))\n"
    "ImageDraw.Draw(img).text((2, 2), 'A', fill=(255, 255, 255), font=ImageFont.load_default())\n"
    "print(np.asarray(img).max())",
    "from PIL import ImageOps\nfrom PIL import Image\nimg = ImageOps.grayscale(Image.fromarray(InputImages[0].array))\n"
    "print(img.mode)",
    "from PIL import ImageFilter, Image\nimg = Image.fromarray(InputImages[0].array).filter(ImageFilter.BLUR)\n"
    "print(img.size)",
    "from PIL import ImageEnhance, Image\nimg = ImageEnhance.Contrast(Image.fromarray(InputImages[0].array))"
    ".enhance(1.5)\nprint(img.size)",
    "from PIL import Image\nimg = Image.fromarray(InputImages[0].array).rotate(90, expand=True)\nprint(img.size)",
    "from PIL import Image\nprint(Image.fromarray(InputImages[0].array).convert('L').getextrema())",
    "from PIL import ImageChops, Image\na = Image.fromarray(InputImages[0].array)\n"
    "b = Image.fromarray(InputImages[1].array)\nprint(ImageChops.difference(a, b).getbbox())",
    "from PIL import ImageStat, Image\nprint(ImageStat.Stat(Image.fromarray(InputImages[0].array)).mean)",
    "from PIL import Image\nimg = Image.fromarray(InputImages[0].array)\nprint(img.crop((0, 0, 8, 8)).size)",
    "import PIL.Image\nprint(PIL.Image.fromarray(np.zeros((2, 2), np.uint8)).size)",
    "from PIL import ImageColor\nprint(ImageColor.getrgb('red'))",
    "hsv = plt.matplotlib.colors.rgb_to_hsv(InputImages[0].array / 255.0)\nprint(hsv.shape)",
    "img = InputImages[0].array\nmask = (img[..., 0] > 128) & (img[..., 1] < 128)\nprint(mask.mean().round(3))",
    "img = InputImages[0].array\nys, xs = np.nonzero(img[..., 1] > 200)\nprint(len(xs))",
    "img = InputImages[0].array.astype(float)\nprint(np.corrcoef(img[..., 0].ravel(), img[..., 1].ravel()).shape)",
    "first = InputImages[0]\nprint(first.size, first.index)",
    "print(InputImages[-1].index - InputImages[0].index)",
    "img = np.asarray(InputImages[0])\nprint(img.shape)",
    "for f in InputImages:\n    print(f.index, f.array.mean().round(2))",
]

_SCIPY = [
    "from scipy import ndimage\nlab, n = ndimage.label(np.eye(5))\nprint(n)",
    "from scipy.spatial import cKDTree\nt = cKDTree(np.random.default_rng(0).random((20, 3)))\n"
    "print(t.query([0.5, 0.5, 0.5])[1] >= 0)",
    "from scipy.spatial.distance import cdist\nprint(cdist([[0, 0]], [[3, 4]]))",
    "from scipy.spatial import ConvexHull\nhull = ConvexHull(np.random.default_rng(1).random((30, 2)))\n"
    "print(round(hull.volume, 3) > 0)",
    "from scipy.spatial.transform import Rotation\nr = Rotation.from_euler('z', 90, degrees=True)\n"
    "print(np.round(r.apply([1, 0, 0]), 3))",
    "from scipy import optimize\nres = optimize.minimize_scalar(lambda x: (x - 2) ** 2)\nprint(round(res.x, 3))",
    "from scipy.optimize import least_squares\nr = least_squares(lambda p: p - 3, x0=[0])\nprint(r.x.round(3))",
    "from scipy import stats\nprint(round(stats.pearsonr([1, 2, 3], [2, 4, 7])[0], 3))",
    "from scipy.stats import mode\nprint(mode([1, 2, 2, 3]).mode)",
    "from scipy import signal\nprint(signal.find_peaks([0, 2, 0, 3, 0])[0])",
    "from scipy.signal import medfilt\nprint(medfilt([1, 9, 1, 1, 9], 3))",
    "from scipy.interpolate import interp1d\nf = interp1d([0, 1, 2], [0, 10, 20])\nprint(f(1.5))",
    "from scipy.interpolate import griddata\nprint(griddata([[0, 0], [1, 0], [0, 1]], [0, 1, 1], [[0.2, 0.2]]))",
    "from scipy import linalg\nprint(linalg.norm([3, 4]))",
    "from scipy.linalg import lstsq\nsol = lstsq(np.array([[1, 0], [0, 1], [1, 1]]), np.array([1, 2, 3]))[0]\n"
    "print(sol.round(3))",
    "from scipy.ndimage import gaussian_filter\nprint(gaussian_filter(np.ones((5, 5)), 1).round(2)[2, 2])",
    "from scipy.ndimage import binary_dilation\nprint(binary_dilation(np.eye(3)).sum())",
    "from scipy.ndimage import center_of_mass\nprint(center_of_mass(np.eye(4)))",
    "from scipy.ndimage import distance_transform_edt\nprint(distance_transform_edt(np.ones((3, 3))).max())",
    "from scipy.ndimage import find_objects, label\nprint(find_objects(label(np.eye(3))[0]))",
    "from scipy.ndimage import zoom\nprint(zoom(np.ones((2, 2)), 2).shape)",
    "from scipy.ndimage import rotate\nprint(rotate(np.ones((4, 4)), 45, reshape=False).shape)",
    "from scipy.cluster.vq import kmeans2\nc, lab = kmeans2(np.random.default_rng(0).random((20, 2)), 2, seed=0)\n"
    "print(c.shape)",
    "from scipy.cluster.hierarchy import linkage\nprint(linkage(np.random.default_rng(0).random((5, 2))).shape)",
    "import scipy.ndimage\nprint(scipy.ndimage.sobel(np.eye(4)).shape)",
    "print(scipy.spatial.distance.euclidean([0, 0], [1, 1]))",
    "from scipy.special import expit\nprint(expit(0))",
    "from scipy.fft import fft\nprint(np.abs(fft(np.ones(4))).round(1))",
    "from scipy.integrate import quad\nprint(round(quad(lambda x: x ** 2, 0, 1)[0], 4))",
    "from scipy.spatial import Delaunay\ntri = Delaunay(np.array([[0, 0], [1, 0], [0, 1], [1, 1]]))\n"
    "print(len(tri.simplices))",
    "from scipy.sparse import csr_matrix\nprint(csr_matrix(np.eye(3)).nnz)",
    "from scipy.sparse.csgraph import connected_components\nfrom scipy.sparse import csr_matrix\n"
    "print(connected_components(csr_matrix(np.eye(3)))[0])",
    "from scipy.optimize import linear_sum_assignment\nprint(linear_sum_assignment(np.array([[1, 2], [2, 1]])))",
    "from scipy.stats import linregress\nprint(round(linregress([1, 2, 3], [2, 4, 6]).slope, 3))",
    "from scipy.spatial.transform import Rotation as R\nprint(R.from_matrix(np.eye(3)).as_quat())",
]

_PLOTS = [
    "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([1, 2, 3])\nshow(fig, 'line')",
    "fig = plt.figure()\nplt.scatter([1, 2], [3, 4])\nshow(fig, 'scatter')\nplt.close(fig)",
    "fig, ax = plt.subplots(1, 2, figsize=(4, 2))\nax[0].imshow(InputImages[0].array)\n"
    "ax[1].imshow(InputImages[1].array)\nshow(fig, 'frames')",
    "fig, ax = plt.subplots()\nax.hist(np.random.default_rng(0).normal(size=100), bins=10)\nshow(fig)",
    "from matplotlib import patches\nfig, ax = plt.subplots()\nax.add_patch(patches.Rectangle((0, 0), 1, 1))\n"
    "show(fig, 'rect')",
    "import matplotlib.patches as mpatches\nc = mpatches.Circle((0, 0), 1)\nprint(c.radius)",
    "from matplotlib import colors\nprint(colors.to_rgb('blue'))",
    "import matplotlib\nprint(matplotlib.colors.to_hex((1, 0, 0)))",
    "from matplotlib import cm\nprint(len(cm.viridis(np.linspace(0, 1, 3))))",
    "cmap = plt.get_cmap('jet')\nprint(np.round(cmap(0.5), 2))",
    "fig, ax = plt.subplots()\nax.bar(['a', 'b'], [3, 5])\nax.set_title('counts')\nshow(fig, 'bars')",
    "fig, ax = plt.subplots()\nax.imshow(InputImages[0].array)\nax.axis('off')\nax.text(2, 2, 'x', color='w')\n"
    "show(fig, 'annotated')",
    "fig = plt.figure()\nax = fig.add_subplot(projection='3d')\nax.scatter([0, 1], [0, 1], [0, 1])\nshow(fig, '3d')",
    "from mpl_toolkits.mplot3d import Axes3D\nprint(Axes3D.name)",
    "fig, ax = plt.subplots()\nax.contour(np.random.default_rng(0).random((5, 5)))\nshow(fig)",
    "fig, ax = plt.subplots()\nax.plot([0, 1], [0, 1], 'r--', label='diag')\nax.legend()\nshow(fig)",
    "fig, ax = plt.subplots()\nax.quiver([0], [0], [1], [1])\nshow(fig, 'arrow')",
    "plt.figure()\nplt.plot(np.sin(np.linspace(0, 6, 50)))\nshow(plt.gcf(), 'sine')",
    "fig, ax = plt.subplots()\nax.set_xlim(0, 10)\nax.set_ylim(0, 5)\nax.grid(True)\nprint(ax.get_xlim())",
    "from matplotlib.lines import Line2D\nprint(Line2D([0, 1], [0, 1]).get_xdata())",
    "from matplotlib.collections import LineCollection\nlc = LineCollection([[(0, 0), (1, 1)]])\nprint(len(lc.get_segments()))",
    "fig, ax = plt.subplots()\nim = ax.imshow(np.random.default_rng(0).random((4, 4)), cmap='gray')\n"
    "fig.colorbar(im)\nshow(fig)",
    "from matplotlib.path import Path\np = Path([(0, 0), (1, 0), (1, 1), (0, 1)])\nprint(p.contains_point((0.5, 0.5)))",
    "from matplotlib import ticker\nprint(ticker.MaxNLocator(4).tick_values(0, 10))",
    "plt.close('all')\nprint(plt.get_fignums())",
    "fig, axes = plt.subplots(2, 2)\nfor a in axes.flat:\n    a.plot([1, 2])\nfig.tight_layout()\nshow(fig, 'grid')",
    "from matplotlib.transforms import Affine2D\nprint(Affine2D().rotate_deg(90).transform([1, 0]).round(3))",
    "from matplotlib.figure import Figure\nfig = Figure()\nfig.add_subplot().plot([1, 2])\nshow(fig, 'oo figure')",
    "fig, ax = plt.subplots()\nax.fill_between([0, 1, 2], [0, 1, 0])\nshow(fig)",
    "from matplotlib.font_manager import FontProperties\nprint(FontProperties(size=8).get_size())",
]

_STDLIB = [
    "x = [3, 1, 2]\nx.remove(1)\nprint(x)",
    "s = {1, 2, 3}\ns.remove(2)\ns.discard(9)\nprint(s)",
    "d = {'a': 1}\nd.pop('a')\nprint(d)",
    "class Obj:\n    name = 'chair'\nprint(getattr(Obj(), 'name', 'unknown'))",
    "class Obj:\n    pass\nprint(getattr(Obj(), 'label', None))",
    "print(hasattr([], 'append'), getattr(np, 'pi'))",
    "class P:\n    pass\np = P()\nsetattr(p, 'x', 3)\nprint(p.x)",
    "import math\nprint(math.hypot(3, 4), math.degrees(math.pi))",
    "import collections\nprint(collections.Counter('banana').most_common(1))",
    "from collections import defaultdict, deque\nd = defaultdict(list)\nd['a'].append(1)\n"
    "q = deque([1, 2])\nq.appendleft(0)\nprint(dict(d), list(q))",
    "from collections import namedtuple\nBox = namedtuple('Box', 'x y w h')\nprint(Box(1, 2, 3, 4).w)",
    "import itertools\nprint(list(itertools.combinations('abc', 2)))",
    "from itertools import product, permutations\nprint(len(list(product([0, 1], repeat=3))), "
    "len(list(permutations('ab'))))",
    "import functools\nprint(functools.reduce(lambda a, b: a * b, [1, 2, 3, 4]))",
    "from functools import lru_cache\n@lru_cache\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
    "print(fib(20))",
    "import statistics\nprint(statistics.mean([1, 2, 3]), statistics.median([3, 1, 2]))",
    "import re\nprint(re.findall(r'\\d+', 'frame 12 of 40'))",
    "import json\nprint(json.dumps({'answer': 'B'}), json.loads('[1, 2]'))",
    "import random\nrandom.seed(0)\nprint(random.choice(['A', 'B']), random.random() < 1)",
    "from dataclasses import dataclass\n@dataclass\nclass Det:\n    label: str\n    score: float\n"
    "print(Det('cup', 0.9))",
    "from enum import Enum\nclass Side(Enum):\n    LEFT = 1\n    RIGHT = 2\nprint(Side.LEFT.name)",
    "import heapq\nprint(heapq.nsmallest(2, [5, 1, 4, 2]))",
    "import bisect\nprint(bisect.bisect_left([1, 3, 5], 4))",
    "from fractions import Fraction\nprint(Fraction(3, 6))",
    "from decimal import Decimal\nprint(Decimal('0.1') + Decimal('0.2'))",
    "import copy\na = {'x': [1]}\nb = copy.deepcopy(a)\nb['x'].append(2)\nprint(a, b)",
    "import operator\nprint(sorted([(1, 'b'), (0, 'a')], key=operator.itemgetter(0)))",
    "import string\nprint(string.ascii_uppercase[:4])",
    "import textwrap\nprint(textwrap.shorten('a long sentence about chairs', 15))",
    "from typing import NamedTuple\nclass Pt(NamedTuple):\n    x: float\n    y: float\nprint(Pt(1, 2).x)",
    "import datetime\nprint(datetime.timedelta(seconds=90))",
    "import cmath\nprint(cmath.phase(1j))",
    "import time\nt0 = time.perf_counter()\nprint(time.perf_counter() >= t0)",
    "import warnings\nwarnings.filterwarnings('ignore')\nprint('ok')",
    "import warnings\nwith warnings.catch_warnings():\n    warnings.simplefilter('ignore')\n    print(np.mean([]))",
    "import array\nprint(array.array('i', [1, 2]).tolist())",
    "import struct\nprint(struct.pack('<I', 1))",
    "import base64\nprint(base64.b64encode(b'xy'))",
    "import hashlib\nprint(hashlib.sha256(b'a').hexdigest()[:8])",
    "import colorsys\nprint(colorsys.rgb_to_hsv(1, 0, 0))",
    "import pprint\npprint.pprint({'b': 2, 'a': 1})",
    "import difflib\nprint(difflib.SequenceMatcher(None, 'chair', 'chairs').ratio() > 0.8)",
    "import zlib\nprint(len(zlib.compress(b'a' * 100)) < 100)",
    "import numbers\nprint(isinstance(3, numbers.Number))",
    "from abc import ABC, abstractmethod\nclass Shape(ABC):\n    @abstractmethod\n    def area(self): ...\n"
    "print(Shape.area)",
    "import calendar\nprint(calendar.isleap(2024))",
    "words = 'the red chair and the blue chair'.split()\nprint(words.count('chair'), words.index('red'))",
    "text = 'Answer: (B) left'\nprint(text.replace('Answer:', '').strip())",
    "s = 'a,b,c'\nparts = s.split(',')\nparts.reverse()\nprint('-'.join(parts))",
    "items = [('chair', 3), ('table', 1)]\nitems.sort(key=lambda t: t[1])\nprint(items)",
    "values = [1, 2, 3]\nvalues.insert(0, 0)\nvalues.extend([4])\nprint(values.pop(), values)",
    "print(sorted({'b': 2, 'a': 1}.items()), max([3, 7, 5]), min('cab'))",
    "print(f'{3.14159:.2f}', '{:>5}'.format('x'), '%d items' % 3)",
    "print(round(2.675, 2), abs(-3), divmod(17, 5), pow(2, 10))",
    "print(list(zip('ab', [1, 2])), list(enumerate('xy')), list(map(str, [1, 2])))",
    "print(any(x > 2 for x in [1, 3]), all([]), sum(range(5)))",
    "print(isinstance(1.0, float), type(3) is int, callable(print))",
    "print(int('12') + float('0.5'), str(5).zfill(3), bin(5), hex(255))",
    "try:\n    1 / 0\nexcept ZeroDivisionError as exc:\n    print('caught', exc)",
    "def safe_div(a, b):\n    try:\n        return a / b\n    except ZeroDivisionError:\n        return float('inf')\n"
    "print(safe_div(1, 0))",
    "print(frozenset([1, 2]) | {3})",
    "gen = (i * i for i in range(4))\nprint(next(gen), list(gen))",
    "def frames_between(a, b):\n    yield from range(a, b)\nprint(list(frames_between(2, 5)))",
    "data = {'left': 2, 'right': 5}\nprint(max(data, key=data.get))",
    "nested = [[1, 2], [3]]\nprint([x for row in nested for x in row])",
    "import math\nangles = [math.atan2(y, x) for x, y in [(1, 0), (0, 1)]]\nprint([round(math.degrees(a)) for a in angles])",
    "lo, hi = sorted([9, 2])\nprint(lo, hi, *[1, 2])",
    "print(bytes([65, 66]).decode(), bytearray(b'ab').upper(), 'ab'.encode())",
    "big = 2 ** 100\nprint(len(str(big)))",
    "print(repr(None), ascii('é'), ord('A'), chr(66))",
    "x = 5\nx += 2\nx //= 2\nprint(x, x ** 0.5)",
    "s = slice(1, 3)\nprint([0, 1, 2, 3][s], list(reversed([1, 2])))",
    "while_count = 0\nwhile while_count < 3:\n    while_count += 1\nprint(while_count)",
    "print(memoryview(b'abc').tobytes())",
    "match = {'kind': 'cup'}\nmatch_kind = match.get('kind', 'none')\nprint(match_kind)",
    "import itertools\nprint(list(itertools.accumulate([1, 2, 3])), list(itertools.chain([1], [2])))",
    "import json\nprint(json.dumps([1.5, None, True], indent=None))",
]

_ANALYSIS = [
    "K = np.array([[500, 0, 320], [0, 500, 240], [0, 0, 1.0]])\np = K @ np.array([0.1, -0.2, 2.0])\n"
    "print((p[:2] / p[2]).round(1))",
    "K = np.array([[500, 0, 320], [0, 500, 240], [0, 0, 1.0]])\nuv1 = np.array([400, 300, 1.0])\n"
    "ray = np.linalg.inv(K) @ uv1\nprint((ray * 2.0).round(3))",
    "T = np.eye(4)\nT[:3, 3] = [1, 2, 3]\np = T @ np.array([0, 0, 0, 1.0])\nprint(p[:3])",
    "a = np.array([0, 0, 0.0])\nb = np.array([3, 4, 0.0])\nprint('distance m', np.linalg.norm(b - a))",
    "box_a = [10, 10, 50, 50]\nbox_b = [30, 30, 70, 70]\n"
    "ix = max(0, min(box_a[2], box_b[2]) - max(box_a[0], box_b[0]))\n"
    "iy = max(0, min(box_a[3], box_b[3]) - max(box_a[1], box_b[1]))\nprint('overlap', ix * iy)",
    "def iou(a, b):\n    x1, y1 = max(a[0], b[0]), max(a[1], b[1])\n    x2, y2 = min(a[2], b[2]), min(a[3], b[3])\n"
    "    inter = max(0, x2 - x1) * max(0, y2 - y1)\n"
    "    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)\n"
    "print(round(iou([0, 0, 2, 2], [1, 1, 3, 3]), 3))",
    "pts = np.random.default_rng(0).random((50, 3))\npts[:, 2] *= 0.01\n"
    "c = pts.mean(axis=0)\n_, _, vt = np.linalg.svd(pts - c)\nprint('normal', np.abs(vt[-1]).round(2))",
    "depth = np.full((24, 32), 2.5)\ndepth[5:10, 5:10] = 1.0\nprint('nearest', depth.min(), 'median', np.median(depth))",
    "mask = np.zeros((24, 32), bool)\nmask[4:8, 10:20] = True\nys, xs = np.nonzero(mask)\n"
    "print('bbox', xs.min(), ys.min(), xs.max(), ys.max())",
    "heights = {'chair': 0.9, 'table': 0.75, 'lamp': 1.6}\nprint(sorted(heights, key=heights.get, reverse=True))",
    "positions = {'cup': np.array([1.0, 0, 2]), 'book': np.array([-0.5, 0, 2])}\n"
    "print('cup is', 'right' if positions['cup'][0] > positions['book'][0] else 'left', 'of the book')",
    "cam = np.array([0, 0, 0.0])\nobjs = {'a': np.array([0, 0, 3.0]), 'b': np.array([0, 0, 1.5])}\n"
    "print(min(objs, key=lambda k: np.linalg.norm(objs[k] - cam)))",
    "t = np.array([0.0, 1.0, 2.0])\nx = np.array([0.0, 0.8, 1.9])\nprint('speed', np.polyfit(t, x, 1)[0].round(2))",
    "fps = 30\nframes = [12, 45]\nprint('seconds apart', (frames[1] - frames[0]) / fps)",
    "counts = [2, 3, 3, 2, 3]\nfrom collections import Counter\nprint('count', Counter(counts).most_common(1)[0][0])",
    "area_px = 1200\ndepth_m = 2.0\nf = 500.0\nprint('area m2', round(area_px * (depth_m / f) ** 2, 4))",
    "v1 = np.array([1, 0, 0.0])\nv2 = np.array([1, 1, 0.0])\n"
    "cos = v1 @ v2 / (np.linalg.norm(v1) * np.linalg.norm(v2))\nprint('angle', np.degrees(np.arccos(cos)).round(1))",
    "room = np.array([[0, 0], [4, 0], [4, 3], [0, 3]], float)\nx, y = room[:, 0], room[:, 1]\n"
    "print('area', 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))",
    "pts = np.random.default_rng(5).random((100, 3)) * [4, 3, 2.5]\nprint('extent', np.ptp(pts, axis=0).round(1))",
    "options = Metadata.options\nscores = np.array([0.1, 0.8, 0.1])\n"
    "print('best option', chr(65 + int(scores.argmax())), options[int(scores.argmax())])",
    "R = np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1.0]])\nprint(np.allclose(R @ R.T, np.eye(3)), np.linalg.det(R))",
    "yaw = math.atan2(1.0, 1.0)\nprint('facing', round(math.degrees(yaw)), 'degrees')",
    "traj = np.cumsum(np.ones((5, 2)) * [0.5, 0.1], axis=0)\nprint('path length', np.linalg.norm(np.diff(traj, axis=0), axis=1).sum().round(3))",
    "a = np.array([2.0, 1.0])\nb = np.array([0.0, 0.0])\nc = np.array([1.0, 2.0])\n"
    "print('left turn' if np.cross(b - a, c - a) > 0 else 'right turn')",
    "hist, edges = np.histogram(InputImages[0].array[..., 0], bins=4, range=(0, 256))\nprint(hist.sum())",
    "sizes = np.array([0.5, 1.2, 0.8])\nprint('largest object index', int(sizes.argmax()), 'ratio', (sizes.max() / sizes.min()).round(2))",
]

LEGIT_CELLS = [*_NUMPY, *_IMAGES, *_SCIPY, *_PLOTS, *_STDLIB, *_ANALYSIS]
"""Every legitimate cell, in a stable order."""
