"""What the physics twin is told at start: its truth, the cube, its rates and where to log the ground truth."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from roarm_lab.emulator.errors import EmulatorError
from roarm_lab.emulator.twin.truth import TwinTruth, nominal_truth

if TYPE_CHECKING:  # the camera module imports MuJoCo, which must wait until MUJOCO_GL is set
    from roarm_lab.emulator.twin.camera import CameraTruth


@dataclass(frozen=True)
class TwinConfig:
    truth: TwinTruth = nominal_truth()
    #: cube on the table: (x, y, yaw) in m, m, rad (world frame, base at the origin); None = drawn at random in the
    #: tasks' object area with ``seed``
    cube: tuple[float, float, float] | None = None
    seed: int = 0
    physics_hz: float = 1000.0
    truth_log: Path | None = None
    truth_log_hz: float = 50.0
    #: a camera beside the table (its pose and lens are hidden truth); None: no camera, no markers in the scene
    camera: CameraTruth | None = None
    charuco: bool = False  # a ChArUco board held up in front of the camera, a new pose each second (intrinsics)
    table_board: bool = False  # the table board lying at markers.TABLE_BOARD_POSE (extrinsics)

    def __post_init__(self) -> None:
        if not self.physics_hz >= 500:
            raise EmulatorError(f"physics_hz must be >= 500 (the servo loop runs at it), got {self.physics_hz}")
        if self.cube is not None and (len(self.cube) != 3 or not all(math.isfinite(v) for v in self.cube)):
            raise EmulatorError(f"cube needs three finite numbers X Y YAW, got {self.cube}")
        if (self.charuco or self.table_board) and self.camera is None:
            raise EmulatorError("the calibration boards are for the camera: give the twin a camera")
