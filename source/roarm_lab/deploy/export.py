"""An rsl-rl actor -> one self-contained ONNX policy package (weights inline, metadata in metadata_props)."""

from __future__ import annotations

import warnings
from pathlib import Path

import onnx
import torch

from roarm_lab.deploy.metadata import INPUT_NAME, OUTPUT_NAME, build_metadata, write_metadata
from roarm_lab.description import ROBOT_ID
from roarm_lab.description.robot_profile import RobotProfile


def actor_to_onnx(actor) -> onnx.ModelProto:
    """The deterministic actor as a graph ``obs`` (batch, k) -> ``actions`` (batch, 6): the observation
    normalizer, the MLP and the distribution's mean (rsl-rl's own export module, ``actor.as_onnx``)."""
    module = actor.as_onnx(verbose=False).to("cpu").eval()
    example = (torch.zeros(2, module.input_size),)  # batch 2: a batch of 1 would be specialised into the graph
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.export's internal deprecations, nothing to act on
        program = torch.onnx.export(module, example, dynamo=True, input_names=[INPUT_NAME],
                                    output_names=[OUTPUT_NAME], dynamic_shapes=({0: torch.export.Dim("batch")},),
                                    optimize=True, verbose=False)
    return program.model_proto


def export_policy_package(actor, task: str, out: str | Path, training: dict | None = None,
                          evaluation: dict | None = None, robot_profile: RobotProfile | None = None) -> Path:
    """Write the package of ``actor`` (an rsl-rl MLPModel trained on ``task``, on ``robot_profile``'s arm or the
    nominal description's) to ``out``."""
    model = actor_to_onnx(actor)
    model.doc_string = f"{ROBOT_ID} {task} policy (roarm_lab policy package)"
    write_metadata(model, build_metadata(task, training, evaluation, robot_profile))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(model.SerializeToString())  # one file: onnx.save could move weights to a .data file
    return out
