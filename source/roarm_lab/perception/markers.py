"""The printed markers, as physical facts shared by whatever prints or renders them and the detector that finds them.

All markers are ArUco 4x4 (``DICT_4X4_50``): ids 0-5 on the cube's faces, 6-11 on the table board, 12 on the
gripper (hand-eye), 13-29 on the ChArUco intrinsics board. A marker's *size* is the side of its black square (the
white margin around it is not part of the marker).

Each face of the cube carries one marker centred on it: :data:`CUBE_FACES` gives, per id, the face's outward normal
``n`` and the marker's right and up directions ``u``, ``v`` (``u x v = n``: seen from outside, ``u`` points to the
marker image's right and ``v`` to its top), in the cube's frame (origin at its centre, axes along its edges; the
tasks' cube frame). Corner order is OpenCV's: top-left, top-right, bottom-right, bottom-left.

The table board is :data:`TABLE_BOARD_COLUMNS` x :data:`TABLE_BOARD_ROWS` markers lying flat on the table; its frame
has its origin at the board's centre, x along the rows (marker 6 is at the -x, +y corner, ids increase along +x then
towards -y), z up. The user places it with its centre at :data:`TABLE_BOARD_POSE` (x, y, yaw in the world frame) or
says where it lies (``calibrate_camera.py extrinsics --board-pose``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from roarm_lab.spatial import homogeneous, rpy_matrix
from roarm_lab.tasks.scene import CUBE_SIZE

DICTIONARY_ID = cv2.aruco.DICT_4X4_50
CUBE_MARKER_SIZE = 0.024  # m: a 24 mm marker in the middle of each 30 mm face (3 mm white margin)

_X, _Y, _Z = np.eye(3)
#: id -> (outward normal n, right u, up v) in the cube frame; id 5 (the bottom) is printed too: a cube may be put
#: down on any face
CUBE_FACES: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {
    0: (_Z, _X, _Y),
    1: (_X, _Y, _Z),
    2: (-_X, -_Y, _Z),
    3: (_Y, -_X, _Z),
    4: (-_Y, _X, _Z),
    5: (-_Z, _X, -_Y),
}

TABLE_BOARD_FIRST_ID = 6
TABLE_BOARD_COLUMNS, TABLE_BOARD_ROWS = 3, 2
TABLE_BOARD_MARKER_SIZE = 0.06  # m
TABLE_BOARD_GAP = 0.015  # m between markers
#: where the board's centre lies by default (x, y in m, yaw in rad, world frame): in the middle of the cubes' area,
#: its rows along the world y axis (it is put there to calibrate, then taken away)
TABLE_BOARD_POSE = (0.24, 0.0, math.pi / 2)

GRIPPER_MARKER_ID = 12
GRIPPER_MARKER_SIZE = 0.03  # m

CHARUCO_FIRST_ID = 13
CHARUCO_SQUARES = (5, 7)  # columns, rows
CHARUCO_SQUARE_SIZE = 0.03  # m
CHARUCO_MARKER_SIZE = 0.022  # m


def dictionary() -> cv2.aruco.Dictionary:
    return cv2.aruco.getPredefinedDictionary(DICTIONARY_ID)


def square_corners(center, u, v, size: float) -> np.ndarray:
    """(4, 3) corners of a ``size`` square marker centred at ``center`` with right ``u`` and up ``v``, OpenCV's
    order (top-left, top-right, bottom-right, bottom-left)."""
    c, u, v, h = np.asarray(center, float), np.asarray(u, float), np.asarray(v, float), size / 2
    return np.stack([c + h * (-u + v), c + h * (u + v), c + h * (u - v), c + h * (-u - v)])


def cube_marker_corners(marker_id: int) -> np.ndarray:
    """(4, 3) corners of a cube marker in the cube frame (m)."""
    n, u, v = CUBE_FACES[marker_id]
    return square_corners(n * CUBE_SIZE / 2, u, v, CUBE_MARKER_SIZE)


def table_board_layout() -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """id -> (centre, right, up) of each table-board marker in the board frame (z up, all facing up)."""
    pitch = TABLE_BOARD_MARKER_SIZE + TABLE_BOARD_GAP
    out = {}
    for r in range(TABLE_BOARD_ROWS):
        for c in range(TABLE_BOARD_COLUMNS):
            centre = np.array([(c - (TABLE_BOARD_COLUMNS - 1) / 2) * pitch, ((TABLE_BOARD_ROWS - 1) / 2 - r) * pitch,
                               0.0])
            out[TABLE_BOARD_FIRST_ID + r * TABLE_BOARD_COLUMNS + c] = (centre, _X, _Y)
    return out


def table_board_corners(marker_id: int) -> np.ndarray:
    """(4, 3) corners of a table-board marker in the board frame (m)."""
    centre, u, v = table_board_layout()[marker_id]
    return square_corners(centre, u, v, TABLE_BOARD_MARKER_SIZE)


def planar_pose(x: float, y: float, yaw: float, z: float = 0.0) -> np.ndarray:
    """4x4 pose of a frame at (x, y, z) turned by ``yaw`` about the world z axis."""
    return homogeneous(rpy_matrix((0.0, 0.0, yaw)), (x, y, z))


def charuco_board() -> cv2.aruco.CharucoBoard:
    cols, rows = CHARUCO_SQUARES
    n = cols * rows // 2
    return cv2.aruco.CharucoBoard((cols, rows), CHARUCO_SQUARE_SIZE, CHARUCO_MARKER_SIZE, dictionary(),
                                  np.arange(CHARUCO_FIRST_ID, CHARUCO_FIRST_ID + n))


def marker_image(marker_id: int, pixels: int, margin: int = 0) -> np.ndarray:
    """A printable marker: ``pixels`` square (black square included), with a white ``margin`` each side, uint8."""
    img = cv2.aruco.generateImageMarker(dictionary(), marker_id, pixels)
    return cv2.copyMakeBorder(img, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=255) if margin else img


def charuco_image(pixels_per_square: int) -> np.ndarray:
    cols, rows = CHARUCO_SQUARES
    return charuco_board().generateImage((cols * pixels_per_square, rows * pixels_per_square), marginSize=0)


@dataclass(frozen=True)
class Sheet:
    """A marker sheet to print at a given resolution: the image and its physical size."""

    name: str
    image: np.ndarray
    width_m: float
    height_m: float


def print_sheets(dpi: int = 300) -> list[Sheet]:
    """The sheets to print (at ``dpi``, 100 % scale): six cube faces, the table board, the gripper marker, the
    ChArUco board."""
    ppm = dpi / 0.0254

    def px(m: float) -> int:
        return int(round(m * ppm))

    face, total = px(CUBE_MARKER_SIZE), px(CUBE_SIZE)
    lead = (total - face) // 2  # the margins round so that the face prints at its full size

    def face_sheet(marker_id: int) -> np.ndarray:
        return cv2.copyMakeBorder(marker_image(marker_id, face), lead, total - face - lead, lead,
                                  total - face - lead, cv2.BORDER_CONSTANT, value=255)

    sheets = [Sheet(f"cube_face_{i}", face_sheet(i), CUBE_SIZE, CUBE_SIZE) for i in CUBE_FACES]
    pitch = TABLE_BOARD_MARKER_SIZE + TABLE_BOARD_GAP
    w, h = TABLE_BOARD_COLUMNS * pitch + TABLE_BOARD_GAP, TABLE_BOARD_ROWS * pitch + TABLE_BOARD_GAP
    board = np.full((px(h), px(w)), 255, np.uint8)
    for marker_id, (centre, _, _) in table_board_layout().items():
        size = px(TABLE_BOARD_MARKER_SIZE)
        x0 = px(w / 2 + centre[0] - TABLE_BOARD_MARKER_SIZE / 2)
        y0 = px(h / 2 - centre[1] - TABLE_BOARD_MARKER_SIZE / 2)
        board[y0:y0 + size, x0:x0 + size] = marker_image(marker_id, size)
    sheets.append(Sheet("table_board", board, w, h))
    g = px(GRIPPER_MARKER_SIZE)
    sheets.append(Sheet("gripper_marker", marker_image(GRIPPER_MARKER_ID, g, px(0.004)), GRIPPER_MARKER_SIZE + 0.008,
                        GRIPPER_MARKER_SIZE + 0.008))
    cols, rows = CHARUCO_SQUARES
    sheets.append(Sheet("charuco", charuco_image(px(CHARUCO_SQUARE_SIZE)), cols * CHARUCO_SQUARE_SIZE,
                        rows * CHARUCO_SQUARE_SIZE))
    return sheets
