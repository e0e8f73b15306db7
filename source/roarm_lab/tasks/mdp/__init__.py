"""The MDP terms of every RoArm task, written once as pure torch functions over a batched :class:`ArmState`.

The MuJoCo backend fills an ArmState from MuJoCo data; the Isaac Lab configs fill one from the scene and call
the same functions. Nothing here knows which simulator produced the numbers.
"""

from roarm_lab.tasks.mdp.state import ArmState

__all__ = ["ArmState"]
