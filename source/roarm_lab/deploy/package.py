"""A policy package loaded for inference: validated metadata, an onnxruntime session and the runner helpers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx.external_data_helper import uses_external_data

from roarm_lab.deploy.action import ActionMapping
from roarm_lab.deploy.errors import PolicyPackageError
from roarm_lab.deploy.metadata import (
    INPUT_NAME,
    OUTPUT_NAME,
    check_metadata,
    is_nominal,
    package_robot_profile,
    read_metadata,
)
from roarm_lab.deploy.observation import build_observation
from roarm_lab.tasks.registry import get_task


def _parse(data: bytes, path: Path) -> onnx.ModelProto:
    try:
        model = onnx.load_model_from_string(data)
    except Exception as err:  # protobuf raises DecodeError and others for bytes that are not a model
        raise PolicyPackageError(f"{path} is not an ONNX model: {err}") from None
    tensors = list(model.graph.initializer) + [a.t for n in model.graph.node for a in n.attribute if a.HasField("t")]
    external = [t.name for t in tensors if uses_external_data(t)]
    if external:
        raise PolicyPackageError(f"{path} keeps weights in external data ({', '.join(external[:3])}...): a package "
                                 "must be one self-contained file (re-export it with scripts/export_onnx.py)")
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as err:
        raise PolicyPackageError(f"{path} is not a valid ONNX model: {err}") from None
    return model


def _session(data: bytes, path: Path, intra_op_threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    try:
        return ort.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime raises its own exception types for graphs it cannot run
        raise PolicyPackageError(f"onnxruntime cannot load {path}: {err}") from None


def _check_io(args, name: str, size: int, what: str) -> None:
    if [a.name for a in args] != [name]:
        raise PolicyPackageError(f"graph {what}s are {[a.name for a in args]}, a package has one {what} {name!r}")
    shape, dtype = args[0].shape, args[0].type
    if dtype != "tensor(float)":
        raise PolicyPackageError(f"graph {what} {name!r} is a {dtype}, a package uses tensor(float)")
    if len(shape) != 2 or shape[1] != size:
        raise PolicyPackageError(f"graph {what} {name!r} has shape {shape}, the metadata says (batch, {size})")
    if isinstance(shape[0], int):
        raise PolicyPackageError(f"graph {what} {name!r} has a fixed batch dimension {shape[0]}: a package has a "
                                 "dynamic one")


class PolicyPackage:
    """A RoArm policy: ``act(obs) -> actions`` plus what a runner needs to build ``obs`` and use ``actions``."""

    def __init__(self, path: Path, metadata: dict, session: ort.InferenceSession):
        self.path = path
        self.metadata = metadata
        self.task: str = metadata["task"]
        self.control_hz: float = metadata["control_hz"]
        self.observation_size: int = metadata["observation"]["size"]
        self.action_size: int = metadata["action"]["size"]
        self.joint_names: tuple[str, ...] = tuple(metadata["action"]["joint_names"])
        self.t102_fields: tuple[str, ...] = tuple(metadata["firmware"]["command"]["fields"])
        self.action_mapping = ActionMapping.from_metadata(metadata["action"])
        #: the robot profile it was trained for: name, hash, encoder_offsets, command_delay_s
        self.robot_profile: dict = package_robot_profile(metadata)
        #: (6,) rad, model frame: what the arm's encoders read above the true joint angles
        self.encoder_offsets = np.asarray(self.robot_profile["encoder_offsets"], dtype=np.float64)
        self._session = session
        self._spec = get_task(self.task)

    @classmethod
    def load(cls, path: str | Path, expect_task: str | None = None, intra_op_threads: int = 1) -> PolicyPackage:
        """Open and validate a package; raises :class:`PolicyPackageError` naming the problem when it does not fit
        (unreadable, not ONNX, external data, another robot or task, unknown schema, missing fields, sizes)."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as err:
            raise PolicyPackageError(f"cannot read {path}: {err.strerror or err}") from None
        meta = read_metadata(_parse(data, path))
        check_metadata(meta, expect_task)
        session = _session(data, path, intra_op_threads)
        _check_io(session.get_inputs(), INPUT_NAME, meta["observation"]["size"], "input")
        _check_io(session.get_outputs(), OUTPUT_NAME, meta["action"]["size"], "output")
        return cls(path, meta, session)

    @property
    def trained_for(self) -> str:
        """``robot profile NAME (hash H)``, or ``the nominal description``."""
        if is_nominal(self.robot_profile):
            return "the nominal description"
        return f"robot profile {self.robot_profile['name']} (hash {self.robot_profile['hash']})"

    def act(self, obs) -> np.ndarray:
        """Deterministic actions for one observation (k,) -> (6,) or a batch (N, k) -> (N, 6), float32."""
        x = np.asarray(obs, dtype=np.float32)
        single = x.ndim == 1
        if single:
            x = x[None]
        if x.ndim != 2 or x.shape[1] != self.observation_size:
            raise ValueError(f"obs must have shape ({self.observation_size},) or (N, {self.observation_size}), "
                             f"got {np.shape(obs)}")
        actions = self._session.run([OUTPUT_NAME], {INPUT_NAME: x})[0]
        return actions[0] if single else actions

    def observation_from_state(self, joint_pos, joint_vel, command, last_action, object_pos=None,
                               object_quat=None) -> np.ndarray:
        """The policy observation from measured joints, the command and the last action (see
        :func:`roarm_lab.deploy.observation.build_observation`)."""
        return build_observation(self._spec, joint_pos, joint_vel, command, last_action, object_pos, object_quat)

    def joint_targets(self, actions) -> np.ndarray:
        """Actions -> joint position targets (model rad), with the package's scale, default pose and clip."""
        return self.action_mapping.joint_targets(actions)

    def firmware_targets(self, actions) -> np.ndarray:
        """Actions -> T:102 values (firmware rad) in :attr:`t102_fields` order."""
        return self.action_mapping.firmware_targets(actions)
