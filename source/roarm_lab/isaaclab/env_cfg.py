"""Manager-based env configs of the RoArm tasks, generated from their TaskSpecs.

Every manager term comes from the spec: one observation term per ``spec.observation_terms`` entry (same name,
order, size; the noise on the ``policy`` group, the ``critic`` group clean, as the MuJoCo env), one reward term
per entry of the task config's ``reward_weights`` (Isaac Lab multiplies weight x value x control dt, like the
MuJoCo env), ``time_out`` plus the spec's failure terminations, and the reset / randomization events of
:mod:`.events`. Physics: 240 Hz, 8 substeps a 30 Hz control step (:mod:`roarm_lab.tasks.timing`).

One config class and one ``-Play`` config class per task of the registry (:data:`ENV_CFG_CLASSES`, named by
:func:`roarm_lab.isaaclab.env_cfg_class_names`, e.g. ``RoArmLiftEnvCfg`` and ``RoArmLiftPlayEnvCfg``).
"""

from __future__ import annotations

from dataclasses import MISSING

import isaaclab.envs.mdp as mdp
import torch
from isaaclab.envs import ManagerBasedRLEnvCfg
from isaaclab.managers import EventTermCfg, ObservationGroupCfg, ObservationTermCfg, RewardTermCfg, SceneEntityCfg
from isaaclab.managers import TerminationTermCfg as DoneTerm
from isaaclab.physics import PhysxAutoCfg
from isaaclab.utils import configclass
from isaaclab.utils.noise import UniformNoiseCfg
from isaaclab_newton.physics import MJWarpSolverCfg, NewtonCfg
from isaaclab_ov.physics import OvPhysxCfg
from isaaclab_physx.physics import PhysxCfg
from isaaclab_tasks.utils import PresetCfg

from roarm_lab.description import HOME_POSE
from roarm_lab.isaaclab import env_cfg_class_names, events
from roarm_lab.isaaclab.actions import JointTargetActionCfg
from roarm_lab.isaaclab.robot_cfg import SERVO_GROUP, servo_actuator_cfg
from roarm_lab.isaaclab.scene_cfg import ENV_SPACING_M, RoArmCubeSceneCfg, RoArmSceneCfg
from roarm_lab.isaaclab.task_state import CUBE, TASK_TERM, TaskStateTermCfg
from roarm_lab.isaaclab.terms import spec_failure, spec_observation, spec_reward
from roarm_lab.tasks.mdp.state import ArmState
from roarm_lab.tasks.registry import TASK_IDS, get_task
from roarm_lab.tasks.spec import TaskCfg, TaskSpec
from roarm_lab.tasks.timing import DECIMATION, PHYSICS_DT


@configclass
class RoArmPhysicsCfg(PresetCfg):
    """``newton_mjwarp`` (default) or ``physx``: Isaac Sim's PhysX where Kit runs, OvPhysX (PhysX without Isaac Sim)
    elsewhere (:mod:`roarm_lab.isaaclab.physics`). Both run kit-less on a CPU or a GPU.

    The MuJoCo-Warp options are the MuJoCo backend's (:mod:`roarm_lab.sim_mujoco.scene`): elliptic friction cones,
    impratio 10, implicitfast, one solver step per 1/240 s physics step.
    """

    newton_mjwarp: NewtonCfg = NewtonCfg(
        solver_cfg=MJWarpSolverCfg(cone="elliptic", impratio=10.0, integrator="implicitfast"),
        num_substeps=1,
        use_cuda_graph=True,  # Isaac Lab only captures graphs on CUDA devices
    )
    isaacsim_physx: PhysxCfg = PhysxCfg()
    ovphysx: OvPhysxCfg = OvPhysxCfg()
    physx: PhysxAutoCfg = PhysxAutoCfg(isaacsim_physx=isaacsim_physx, ovphysx=ovphysx)
    default: NewtonCfg = newton_mjwarp


def _generated_cfg(name: str, base: type, terms: dict[str, object]):
    """A configclass with one field per term, in order (the managers read terms in field order)."""
    namespace = {"__annotations__": {k: type(v) for k, v in terms.items()}, **terms}
    return configclass(type(name, (base,), namespace))


def observations_cfg(spec: TaskSpec, task_cfg: TaskCfg):
    """``policy`` (noisy when randomization is on) and ``critic`` (clean) groups of the spec's terms."""
    rand = task_cfg.randomization
    scale = rand.observation_noise_scale if rand.enabled else 0.0

    def group(noisy: bool) -> dict[str, ObservationTermCfg]:
        terms = {}
        for t in spec.observation_terms:
            k = t.noise * scale
            noise = UniformNoiseCfg(n_min=-k, n_max=k) if noisy and k > 0 else None
            terms[t.name] = ObservationTermCfg(func=spec_observation, params={"name": t.name}, noise=noise)
        return terms

    prefix = spec.task_id.replace("-", "")
    policy = _generated_cfg(f"{prefix}PolicyObsCfg", ObservationGroupCfg, group(noisy=True))
    critic = _generated_cfg(f"{prefix}CriticObsCfg", ObservationGroupCfg, group(noisy=False))
    groups = _generated_cfg(f"{prefix}ObservationsCfg", object, {
        "policy": policy(enable_corruption=True, concatenate_terms=True),
        "critic": critic(enable_corruption=False, concatenate_terms=True),
    })
    return groups()


def rewards_cfg(spec: TaskSpec, task_cfg: TaskCfg):
    terms = {name: RewardTermCfg(func=spec_reward, weight=w, params={"name": name})
             for name, w in task_cfg.reward_weights.items()}
    return _generated_cfg(f"{spec.task_id.replace('-', '')}RewardsCfg", object, terms)()


def failure_names(spec: TaskSpec, task_cfg: TaskCfg) -> list[str]:
    """The keys of the spec's failure terminations (evaluated once on a state at home)."""
    z3, z6 = torch.zeros(1, 3), torch.zeros(1, 6)
    objects = {}
    if spec.has_object:
        objects = dict(object_pos=z3, object_quat=torch.tensor([[1.0, 0.0, 0.0, 0.0]]), object_lin_vel=z3)
    s = ArmState.from_joints(torch.tensor([HOME_POSE]), z6, z3, z6, z6, **objects)
    return list(spec.terminations(task_cfg, s))


def terminations_cfg(spec: TaskSpec, task_cfg: TaskCfg):
    terms = {"time_out": DoneTerm(func=mdp.time_out, time_out=True)}
    for name in failure_names(spec, task_cfg):
        terms[name] = DoneTerm(func=spec_failure, params={"name": name})
    return _generated_cfg(f"{spec.task_id.replace('-', '')}TerminationsCfg", object, terms)()


def events_cfg(spec: TaskSpec, task_cfg: TaskCfg):
    terms = {
        "reset_task": EventTermCfg(func=events.reset_task, mode="reset"),
        "apply_physics": EventTermCfg(func=events.apply_physics, mode="reset"),
    }
    rand = task_cfg.randomization
    if spec.has_object and rand.enabled:
        terms["cube_friction"] = EventTermCfg(
            func=mdp.randomize_rigid_body_material, mode="reset",
            params={"asset_cfg": SceneEntityCfg(CUBE), "static_friction_range": rand.object_friction,
                    "dynamic_friction_range": rand.object_friction, "restitution_range": (0.0, 0.0),
                    "num_buckets": 64})
    return _generated_cfg(f"{spec.task_id.replace('-', '')}EventsCfg", object, terms)()


@configclass
class ActionsCfg:
    joint_targets = JointTargetActionCfg()


@configclass
class CommandsCfg:
    task: TaskStateTermCfg = MISSING


@configclass
class RoArmEnvCfg(ManagerBasedRLEnvCfg):
    """A RoArm task; subclasses name the task (``task_id``).

    ``task_cfg`` (default: the TaskSpec's ``make_cfg()``) is read when the config is built or replaced
    (:meth:`set_task_cfg`): the reward weights, the observation noise, which randomization events exist, the
    episode length and the arm's drives (its ``robot_profile``; the description's without one) come from it. The
    task term gets the same object (``commands.task.task_cfg``, the one read at run time).
    """

    task_id: str = MISSING
    task_cfg: TaskCfg | None = None
    scene: RoArmSceneCfg = RoArmSceneCfg(num_envs=1024, env_spacing=ENV_SPACING_M)
    actions: ActionsCfg = ActionsCfg()
    observations: object = None
    rewards: object = None
    terminations: object = None
    events: object = None
    commands: CommandsCfg = CommandsCfg()

    def __post_init__(self):
        spec = get_task(self.task_id)
        if spec.has_object:
            self.scene = RoArmCubeSceneCfg(num_envs=self.scene.num_envs, env_spacing=self.scene.env_spacing)
        self.set_task_cfg(self.task_cfg if self.task_cfg is not None else spec.make_cfg())
        self.decimation = DECIMATION
        self.sim.dt = PHYSICS_DT
        self.sim.render_interval = DECIMATION
        self.sim.physics = RoArmPhysicsCfg()

    def set_task_cfg(self, task_cfg: TaskCfg) -> None:
        """(Re)build the terms that depend on the task config from ``task_cfg``. Also for a config already parsed
        (``parse_env_cfg``: presets resolved), e.g. with the evaluation or sim-to-sim settings."""
        spec = get_task(self.task_id)
        self.task_cfg = task_cfg
        self.commands.task = TaskStateTermCfg(task_id=self.task_id, task_cfg=task_cfg)
        self.observations = observations_cfg(spec, task_cfg)
        self.rewards = rewards_cfg(spec, task_cfg)
        self.terminations = terminations_cfg(spec, task_cfg)
        self.events = events_cfg(spec, task_cfg)
        self.episode_length_s = task_cfg.episode_length_s
        # replace() copies the robot config: its other fields (the init state) stay
        self.scene.robot = self.scene.robot.replace(
            actuators={SERVO_GROUP: servo_actuator_cfg(task_cfg.robot_profile)})

    def play_mode(self):
        """Isaac Lab's play defaults, and object tasks start from home as in evaluation
        (:func:`roarm_lab.evaluation.eval_cfg`)."""
        super().play_mode()
        task_cfg = getattr(self.commands, TASK_TERM).task_cfg
        if hasattr(task_cfg, "pregrasp_fraction"):
            task_cfg.pregrasp_fraction = 0.0


def _task_cfg_classes(task_id: str) -> tuple[type[RoArmEnvCfg], type[RoArmEnvCfg]]:
    """``RoArm<Task>EnvCfg`` (``task_id`` set) and its ``RoArm<Task>PlayEnvCfg`` subclass (:meth:`play_mode`)."""
    names = env_cfg_class_names(task_id)
    task_cls = configclass(type(names[0], (RoArmEnvCfg,), {
        "__annotations__": {"task_id": str}, "task_id": task_id, "__module__": __name__, "__qualname__": names[0]}))

    def __post_init__(self):
        task_cls.__post_init__(self)
        self.play_mode()

    play_cls = configclass(type(names[1], (task_cls,), {
        "__post_init__": __post_init__, "__module__": __name__, "__qualname__": names[1]}))
    return task_cls, play_cls


#: task id -> (env config class, play env config class), one pair per registry entry
ENV_CFG_CLASSES = {task_id: _task_cfg_classes(task_id) for task_id in TASK_IDS}
globals().update({cls.__name__: cls for pair in ENV_CFG_CLASSES.values() for cls in pair})
