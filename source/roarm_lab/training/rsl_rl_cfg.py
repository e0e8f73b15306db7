"""The tasks' PPO agents (:class:`~roarm_lab.tasks.registry.PPOAgentCfg`) as Isaac Lab's rsl-rl config classes.

One ``RslRlOnPolicyRunnerCfg`` subclass per registry entry (:data:`CFG_CLASSES`), named by
:func:`roarm_lab.isaaclab.rsl_rl_cfg_class_name` (e.g. ``RoArmReachPPORunnerCfg``): the gym registration's
``rsl_rl_cfg_entry_point`` names it, so ``isaaclab train --rl_library rsl_rl`` and train.py's own runs
(:func:`roarm_lab.training.policy.runner_cfg`) use the same numbers.
"""

from __future__ import annotations

from isaaclab.utils import configclass
from isaaclab_rl.rsl_rl import RslRlMLPModelCfg, RslRlOnPolicyRunnerCfg, RslRlPpoAlgorithmCfg

from roarm_lab.isaaclab import rsl_rl_cfg_class_name
from roarm_lab.tasks.registry import ENTRIES, PPOAgentCfg

#: The PPO settings of :class:`PPOAgentCfg`, by the names :class:`RslRlPpoAlgorithmCfg` gives them.
PPO_FIELDS = ("value_loss_coef", "use_clipped_value_loss", "clip_param", "entropy_coef", "num_learning_epochs",
              "num_mini_batches", "learning_rate", "schedule", "gamma", "lam", "desired_kl", "max_grad_norm")


def cfg_fields(task_id: str, agent: PPOAgentCfg) -> dict[str, object]:
    """The ``RslRlOnPolicyRunnerCfg`` fields an agent sets (the others keep Isaac Lab's defaults)."""
    return {
        "num_steps_per_env": agent.num_steps_per_env,
        "max_iterations": agent.max_iterations,
        "save_interval": agent.save_interval,
        "experiment_name": task_id,
        "obs_groups": {"actor": ["policy"], "critic": ["critic"]},
        "actor": RslRlMLPModelCfg(
            hidden_dims=list(agent.hidden_dims),
            activation=agent.activation,
            obs_normalization=True,
            distribution_cfg=RslRlMLPModelCfg.GaussianDistributionCfg(init_std=agent.init_std),
        ),
        "critic": RslRlMLPModelCfg(hidden_dims=list(agent.hidden_dims), activation=agent.activation,
                                   obs_normalization=True),
        "algorithm": RslRlPpoAlgorithmCfg(**{name: getattr(agent, name) for name in PPO_FIELDS}),
    }


def _cfg_class(task_id: str, agent: PPOAgentCfg) -> type[RslRlOnPolicyRunnerCfg]:
    name = rsl_rl_cfg_class_name(task_id)
    fields = cfg_fields(task_id, agent)
    namespace = {"__annotations__": {k: type(v) for k, v in fields.items()}, **fields,
                 "__module__": __name__, "__qualname__": name,
                 "__doc__": f"rsl-rl PPO of {task_id} (:data:`roarm_lab.tasks.registry.ENTRIES`)."}
    return configclass(type(name, (RslRlOnPolicyRunnerCfg,), namespace))


#: task id -> its config class
CFG_CLASSES: dict[str, type[RslRlOnPolicyRunnerCfg]] = {
    task_id: _cfg_class(task_id, entry.agent) for task_id, entry in ENTRIES.items()}
globals().update({cls.__name__: cls for cls in CFG_CLASSES.values()})
