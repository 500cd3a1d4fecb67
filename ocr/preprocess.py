"""Page preprocessing: red-ink dropout, orientation, registration onto a template, form dropout.

Registration finds the form's outer ruled frame, fits a straight line to each side (robust to a stamp
or a seal touching it), and maps the four corners onto the template's frame: this fixes skew, scale,
shift and 90/180/270 rotation in one perspective transform. Which of the rotations is right is decided
by how well the template's own printed matter (rendered blank) lines up with the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from yomitori.forms_templates.schema import LayoutTemplate

PX_PER_MM = 8.0  # working resolution (~203 dpi): enough for PP-OCR's 48-px lines, cheap to warp
WORK_LONG_SIDE = 2600  # pages are brought to about this size before registration (325 mm × PX_PER_MM)
# 12 px/mm (WORK_LONG_SIDE 3900) once read 0.8 points more, mostly faint strokes (thin Mincho, dakuten) that
# the ink mask lost at 8 px/mm. Since field crops keep faint ink (FAINT_INK) the two read alike: 97.4 % vs
# 97.2 % of non-blank fields on 60 tuning pages, and 12 px/mm took 1.7× the time.
SMALL_PX_PER_MM = 2.0  # the coarse copy on which the four rotations are scored
# The blank form is rendered for that coarse score at a fixed resolution: hairlines one pixel wide at any
# resolution would otherwise fade differently when reduced, and the score would shift with PX_PER_MM.
COARSE_REF_PX_PER_MM = 8.0

# Image-analysis sizes below are in millimetres (areas in mm²), turned into pixels at the working
# resolution when used, so that a different PX_PER_MM crops, drops out and despeckles the same paper.
RED_GROW_MM = 0.25  # a seal's washed-out rim
SEAL_MM = (6.0, 24.0)  # a 印影's least and greatest side (a personal seal ~10 mm, a company's square ~18 mm)
SEAL_GROUP_MM = 1.5  # the ring and the letters of one seal lie this near one another
FRAME_GAP_MM = 0.125  # gaps closed in the ruled frame (fax dropouts, JPEG)
FRAME_FIT_MM = 0.75  # the least distance from a frame side that still counts as on it
FRAME_SEARCH_MM = 15.0  # how far inside the smallest rectangle around the outline a frame side is looked for
DROPOUT_MM = 0.375  # form dropout tolerance: how far off its place printed matter may be and still go
SPECK_MM2 = 0.09  # ink blobs smaller than this are dust, not writing
INK = (0.62, 170)  # ink: darker than this share of the paper's brightness, and than this gray (see ink_mask)
FAINT_INK = (0.72, 185)  # light strokes a field crop keeps beside the ink (see Registered.faint_ink)
LIGHT_INK = (0.9, 225)  # lighter still: kept only where it joins kept ink (see Registered.light_ink)


def mm_px(mm: float) -> int:
    """A length in millimetres as whole pixels at the working resolution (halves round up)."""
    return int(mm * PX_PER_MM + 0.5)


def mm2_px(mm2: float) -> int:
    """An area in square millimetres as pixels at the working resolution."""
    return int(mm2 * PX_PER_MM * PX_PER_MM + 0.5)


def grow_kernel(radius_mm: float) -> np.ndarray:
    """A square structuring element reaching `radius_mm` from its centre (3×3 at 0.125 mm and 8 px/mm)."""
    n = 2 * mm_px(radius_mm) + 1
    return np.ones((n, n), np.uint8)


@dataclass
class Registered:
    """A page mapped onto a template, in template millimetres at PX_PER_MM."""

    template: LayoutTemplate
    gray: np.ndarray  # registered page, red ink dropped out
    rotation: int  # degrees the scan was turned to read it upright
    score: float  # 0..1, how much of the template's printed matter was found where expected

    @cached_property
    def ink(self) -> np.ndarray:
        """Filled-in ink only (the blank form subtracted); computed for the layout that won."""
        return filled_ink(self.gray, self.template)

    @cached_property
    def faint_ink(self) -> np.ndarray:
        """Filled-in ink including strokes too light for `ink`: a thin Mincho hyphen after JPEG is ~160 on
        248 paper, and a field crop made only of `ink` lost it (0742-55-1248 read as 0742551248)."""
        return filled_ink(self.gray, self.template, FAINT_INK)

    @cached_property
    def light_ink(self) -> np.ndarray:
        """Barely darker than paper, the blank form's printed matter excluded: a blurred Mincho letter's
        horizontal strokes (185–205 on 233 paper) between its dark verticals. A crop keeps such pixels only where
        they join the ink it keeps; on their own they are shading, JPEG ringing, a label's remnant."""
        return ink_mask(self.gray, LIGHT_INK) & ~reference(self.template)[2]


def drop_red(rgb: np.ndarray) -> np.ndarray:
    """Grayscale with red ink (印影, red pen) turned to paper: seals must not corrupt the text under them.

    Purple and blue stamp ink keeps its darkness: a ゴム印 is data, a seal is not.
    """
    # OpenCV's saturating uint8 operations: a fifth of the time of int16 arithmetic on a whole page.
    r, g, b = cv2.split(rgb)
    gb = cv2.max(g, b)
    gray = cv2.min(r, cv2.min(g, b))
    red = (cv2.subtract(r, gb) > 35) & (r > 100)  # r − max(g, b) > 35; saturation cannot reach it
    if red.any():
        red = _seal_sized(red)
    if red.any():
        # Grow the mask over the seal's washed-out edges, but never over black ink it lies on.
        grown = cv2.dilate(red.view(np.uint8), grow_kernel(RED_GROW_MM)).view(bool)
        red |= grown & (gray > 90)
        paper = np.uint8(min(255, int(np.percentile(gray[::4, ::4], 90))))
        gray[red] = np.maximum(gray[red], paper)
    return gray


def _seal_sized(red: np.ndarray) -> np.ndarray:
    """The red ink that is a seal's: blobs of a seal's size. A form printed in red or brown (its rules, its
    labels and title, thin and spread over the page) is the form, and classification reads it."""
    near = cv2.dilate(red.view(np.uint8), grow_kernel(SEAL_GROUP_MM))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(near, connectivity=8)
    lo, hi = SEAL_MM[0] * PX_PER_MM, SEAL_MM[1] * PX_PER_MM * 1.5  # pages of A5 come out at ~12 px/mm
    grown = 2 * mm_px(SEAL_GROUP_MM)  # what the grouping added round each blob
    sides = stats[1:, 2:4] - grown
    seal = np.zeros(n, bool)
    seal[1:] = (sides.min(axis=1) >= lo) & (sides.max(axis=1) <= hi)
    if seal[1:].all():
        return red
    return red & seal[labels]


def to_working(rgb: np.ndarray) -> np.ndarray:
    """Red dropout and a resize to the working size; what the extraction workers receive."""
    h, w = rgb.shape[:2]
    scale = WORK_LONG_SIDE / max(h, w)
    if scale < 0.95:
        rgb = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    return drop_red(rgb) if rgb.ndim == 3 else rgb


def ink_darkness(gray: np.ndarray) -> np.ndarray:
    """Each pixel's darkness in [0, 1] relative to the image's own paper tone (paper 0): the networks' input."""
    paper = max(float(np.percentile(gray, 90)), 1.0)  # off-white paper and dark scans alike
    return np.clip(1.0 - gray.astype(np.float32) / paper, 0.0, 1.0)


def ink_mask(gray: np.ndarray, darkness: tuple[float, int] = INK) -> np.ndarray:
    """Dark pixels relative to this page's paper, robust to off-white paper and faint scans: darker than
    `darkness` = (share of the paper's brightness, absolute cap)."""
    paper = float(np.percentile(gray[:: 4, :: 4], 90))
    return gray < min(paper * darkness[0], darkness[1])


# ---------------------------------------------------------------- the frame


def find_frame(gray: np.ndarray) -> np.ndarray | None:
    """Corners (tl, tr, br, bl) of the page's largest ruled rectangle, in image pixels, or None."""
    ink = ink_mask(gray).astype(np.uint8)
    # Close small gaps in the ruled lines (fax dropouts, JPEG) before following the outline.
    ink = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, grow_kernel(FRAME_GAP_MM))
    contours, _ = cv2.findContours(ink, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return None
    c = max(contours, key=cv2.contourArea)
    if cv2.contourArea(c) < 0.2 * gray.shape[0] * gray.shape[1]:
        return None
    # The smallest rotated rectangle around the outline survives a corner hidden by a stamp;
    # each side is then fitted to the outline's own points.
    corners = order_corners(cv2.boxPoints(cv2.minAreaRect(c)).astype(np.float32))
    return _refine(corners, c.reshape(-1, 2).astype(np.float32))


def order_corners(pts: np.ndarray) -> np.ndarray:
    s = pts.sum(axis=1)
    d = pts[:, 0] - pts[:, 1]
    return np.array([pts[s.argmin()], pts[d.argmax()], pts[s.argmax()], pts[d.argmin()]], dtype=np.float32)


def _refine(corners: np.ndarray, contour: np.ndarray) -> np.ndarray:
    """Fit a robust line to the contour points along each side; corners are their intersections."""
    lines = []
    for i in range(4):
        a, b = corners[i], corners[(i + 1) % 4]
        ab = b - a
        length = float(np.hypot(*ab))
        t = ((contour - a) @ ab) / (length**2)
        rel = contour - a
        dist = np.abs(ab[0] * rel[:, 1] - ab[1] * rel[:, 0]) / length
        # The side's outline is mostly the frame's edge, but a stamp or a seal over the frame pushes the smallest
        # rectangle out: the frame is where most of the side's outline points lie, not the rectangle's side.
        step = max(FRAME_FIT_MM * PX_PER_MM, length * 0.01)
        along = (t > 0.1) & (t < 0.9) & (dist < FRAME_SEARCH_MM * PX_PER_MM)
        if along.sum() < 20:
            return corners
        counts = np.bincount((dist[along] / step).astype(int))
        on_frame = (int(np.argmax(counts)) + 0.5) * step
        near = contour[along & (np.abs(dist - on_frame) < step)]
        if len(near) < 20:
            return corners
        vx, vy, x0, y0 = cv2.fitLine(near, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines.append((np.array([x0, y0]), np.array([vx, vy])))
    out = []
    for i in range(4):
        (p1, d1), (p2, d2) = lines[i - 1], lines[i]
        m = np.array([d1, -d2]).T
        if abs(np.linalg.det(m)) < 1e-6:
            return corners
        s, _ = np.linalg.solve(m, p2 - p1)
        out.append(p1 + s * d1)
    return np.array(out, dtype=np.float32)


# ---------------------------------------------------------------- the template side


# Keyed by id and resolution, holding the template itself so the id cannot be reused by another template.
_references: dict[tuple[int, float], tuple[LayoutTemplate, tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}


def reference(t: LayoutTemplate) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The blank form at the working resolution: gray, ink, and ink grown by the registration tolerance."""
    from yomitori.forms_templates.blank import render_blank

    key = (id(t), PX_PER_MM)
    cached = _references.get(key)
    if cached is None or cached[0] is not t:
        gray = np.asarray(render_blank(t, PX_PER_MM * 25.4).convert("L"))
        ink = gray < 160
        grown = cv2.dilate(ink.astype(np.uint8), grow_kernel(DROPOUT_MM)).astype(bool)
        cached = _references[key] = (t, (gray, ink, grown))
    return cached[1]


def _frame_px(t: LayoutTemplate) -> np.ndarray:
    x, y, w, h = (v * PX_PER_MM for v in t.frame)
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], dtype=np.float32)


def _page_px(t: LayoutTemplate) -> tuple[int, int]:
    return round(t.page.width_mm * PX_PER_MM), round(t.page.height_mm * PX_PER_MM)


@dataclass(frozen=True)
class Fit:
    """How a page maps onto a template (best of the four rotations), before the full-size warp."""

    template: LayoutTemplate
    matrix: np.ndarray  # working page → template pixels at PX_PER_MM
    rotation: int
    score: float

    def warp(self, gray: np.ndarray) -> Registered:
        """The page registered onto the template (the costly full-size warp: only for the layout chosen)."""
        registered = cv2.warpPerspective(gray, self.matrix, _page_px(self.template), flags=cv2.INTER_LINEAR,
                                         borderValue=255)
        return Registered(self.template, registered, self.rotation, self.score)


def fit(gray: np.ndarray, t: LayoutTemplate, corners: np.ndarray | None = None) -> Fit | None:
    """Score template `t` on a working-size page in the four rotations; None if no frame is found."""
    corners = find_frame(gray) if corners is None else corners
    if corners is None:
        return None
    dst = _frame_px(t)
    f = SMALL_PX_PER_MM / PX_PER_MM
    small_ref = _coarse_reference(t)
    small_size = (small_ref.shape[1], small_ref.shape[0])
    best: tuple[float, int, np.ndarray] | None = None
    for k in range(4):
        # Rotating the corner order by k maps the page turned by k*90 degrees.
        src = np.roll(corners, -k, axis=0)
        if not _aspect_fits(src, dst):
            continue
        m = cv2.getPerspectiveTransform(src, dst)
        small = cv2.warpPerspective(gray, _scaled(m, f), small_size,
                                    flags=cv2.INTER_AREA, borderValue=255)
        score = _coverage(small_ref, ink_mask(small))
        if best is None or score > best[0]:
            best = (score, k, m)
    if best is None:
        return None
    score, k, m = best
    return Fit(t, m, (k * 90) % 360, score)


def register(gray: np.ndarray, t: LayoutTemplate, corners: np.ndarray | None = None) -> Registered | None:
    """Map a working-size page onto template `t`, trying the four rotations; None if no frame is found."""
    found = fit(gray, t, corners)
    return found.warp(gray) if found is not None else None


def _aspect_fits(src: np.ndarray, dst: np.ndarray) -> bool:
    def aspect(q: np.ndarray) -> float:
        return float(np.hypot(*(q[1] - q[0])) / max(1.0, np.hypot(*(q[3] - q[0]))))

    a, b = aspect(src), aspect(dst)
    return 0.8 < a / b < 1.25


def _scaled(m: np.ndarray, f: float) -> np.ndarray:
    return np.diag([f, f, 1.0]) @ m


_coarse: dict[int, tuple[LayoutTemplate, np.ndarray]] = {}


def _coarse_reference(t: LayoutTemplate) -> np.ndarray:
    """The blank form's printed ink at SMALL_PX_PER_MM, for scoring the four rotations."""
    from yomitori.forms_templates.blank import render_blank

    cached = _coarse.get(id(t))
    if cached is None or cached[0] is not t:
        ink = (reference(t)[1] if PX_PER_MM == COARSE_REF_PX_PER_MM
               else np.asarray(render_blank(t, COARSE_REF_PX_PER_MM * 25.4).convert("L")) < 160)
        f = SMALL_PX_PER_MM / COARSE_REF_PX_PER_MM
        size = (int(ink.shape[1] * f), int(ink.shape[0] * f))
        small = cv2.resize(ink.astype(np.uint8) * 255, size, interpolation=cv2.INTER_AREA) > 40
        cached = _coarse[id(t)] = (t, small)
    return cached[1]


def _coverage(ref_ink: np.ndarray, page_ink: np.ndarray) -> float:
    """Share of the template's printed ink that the page also has (with a pixel of tolerance)."""
    h = min(ref_ink.shape[0], page_ink.shape[0])
    w = min(ref_ink.shape[1], page_ink.shape[1])
    ref_ink, page_ink = ref_ink[:h, :w], page_ink[:h, :w]
    grown = cv2.dilate(page_ink.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    total = int(ref_ink.sum())
    return float((ref_ink & grown).sum() / total) if total else 0.0


def filled_ink(registered_gray: np.ndarray, t: LayoutTemplate, darkness: tuple[float, int] = INK) -> np.ndarray:
    """Form dropout: the page's ink (see ink_mask) minus the blank form's printed matter, minus specks."""
    _, _, grown = reference(t)
    ink = ink_mask(registered_gray, darkness) & ~grown
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    small = stats[:, cv2.CC_STAT_AREA] < mm2_px(SPECK_MM2)
    small[0] = False
    specks = np.flatnonzero(small)
    if len(specks) > 400:  # a noisy fax: one lookup over the page
        ink[small[labels]] = False
    else:  # usually a few dozen: each within its own box, not a lookup of every pixel of the page
        for k in specks:
            x, y, w, h = stats[k, :4]
            ink[y : y + h, x : x + w][labels[y : y + h, x : x + w] == k] = False
    return ink
