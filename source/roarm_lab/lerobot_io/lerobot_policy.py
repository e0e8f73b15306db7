"""A policy trained with `lerobot-train` (e.g. ACT on sim demos), loaded for inference on the arm.

The policy's inputs are matched by name to what the arm side can give: ``observation.state`` (the follower's six
``{joint}.pos``, model rad), ``observation.environment_state`` (the cube's and the target's positions, given by
the user where no camera tracks them, as sim demos recorded them) and ``observation.images.<name>`` (the follower's
cameras). An input that cannot be given is an error before the arm moves. The output is six joint targets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from .dataset_features import ENVIRONMENT_STATE, ENVIRONMENT_STATE_NAMES, IMAGE_PREFIX, STATE
from .features import JOINT_POS_KEYS


class LeRobotPolicy:
    """``pretrained_model`` directory of a `lerobot-train` checkpoint (config.json, model.safetensors and the
    processor pipelines)."""

    def __init__(self, path: str | Path, device: str = "cpu"):
        from lerobot.configs import PreTrainedConfig
        from lerobot.policies import get_policy_class, make_pre_post_processors

        path = Path(path)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path} is not a LeRobot policy (no config.json): give the checkpoint's "
                                    "pretrained_model directory, e.g. outputs/train/act/checkpoints/last/"
                                    "pretrained_model")
        self.config = PreTrainedConfig.from_pretrained(path)
        self.config.pretrained_path = path
        self.config.device = device
        self.policy = get_policy_class(self.config.type).from_pretrained(path, config=self.config)
        self.policy.eval()
        self.preprocessor, self.postprocessor = make_pre_post_processors(
            policy_cfg=self.config, pretrained_path=str(path),
            preprocessor_overrides={"device_processor": {"device": device}})
        self.device = torch.device(device)
        action = self.config.output_features.get("action")
        if action is None or tuple(action.shape) != (len(JOINT_POS_KEYS),):
            raise ValueError(f"{path}: the policy's action is {action}, not the arm's {len(JOINT_POS_KEYS)} joints")

    @property
    def input_names(self) -> list[str]:
        return list(self.config.input_features)

    def check_inputs(self, cameras: Sequence[str], environment_state: Sequence[float] | None) -> None:
        """Raise ValueError naming every policy input the arm side cannot give."""
        missing = []
        for name in self.input_names:
            if name == ENVIRONMENT_STATE and environment_state is None:
                missing.append(f"{name} (give the cube and target positions)")
            elif name.startswith(IMAGE_PREFIX) and name.removeprefix(IMAGE_PREFIX) not in cameras:
                missing.append(f"{name} (the follower has cameras {list(cameras) or 'none'})")
            elif name not in (STATE, ENVIRONMENT_STATE) and not name.startswith(IMAGE_PREFIX):
                missing.append(f"{name} (unknown to this runner)")
        if missing:
            raise ValueError("the policy needs inputs the arm cannot give: " + "; ".join(missing))
        if environment_state is not None and len(environment_state) != len(ENVIRONMENT_STATE_NAMES):
            raise ValueError(f"environment state needs {len(ENVIRONMENT_STATE_NAMES)} values "
                             f"({', '.join(ENVIRONMENT_STATE_NAMES)}), got {len(environment_state)}")

    def reset(self) -> None:
        """Forget queued action chunks (start of a run)."""
        self.policy.reset()

    def act(self, observation: Mapping[str, object], environment_state: Sequence[float] | None = None,
            task: str = "") -> np.ndarray:
        """Joint targets (6,), model rad, from a follower observation (``{joint}.pos`` and camera images)."""
        inputs: dict[str, np.ndarray] = {}
        for name in self.input_names:
            if name == STATE:
                inputs[name] = np.array([[observation[k] for k in JOINT_POS_KEYS]], dtype=np.float32)
            elif name == ENVIRONMENT_STATE:
                inputs[name] = np.asarray([environment_state], dtype=np.float32)
            else:
                inputs[name] = np.asarray(observation[name.removeprefix(IMAGE_PREFIX)])[None]
        return self.act_batch(inputs, task)[0]

    def act_batch(self, inputs: Mapping[str, np.ndarray], task: str = "") -> np.ndarray:
        """Joint targets (B, 6) from a batch of policy inputs by name: states (B, n); images (B, H, W, 3) uint8.
        Every row of a batch must be at the same step of its episode (ACT queues one action chunk per batch)."""
        batch: dict[str, object] = {}
        for name in self.input_names:
            value = torch.as_tensor(np.asarray(inputs[name]))
            if name.startswith(IMAGE_PREFIX):  # as LeRobot's own inference: channels first, [0, 1]
                value = value.permute(0, 3, 1, 2).float() / (255.0 if value.dtype == torch.uint8 else 1.0)
            batch[name] = value.to(self.device)
        batch["task"], batch["robot_type"] = task, ""
        with torch.inference_mode():
            action = self.postprocessor(self.policy.select_action(self.preprocessor(batch)))
        return action.cpu().numpy().astype(np.float64)
