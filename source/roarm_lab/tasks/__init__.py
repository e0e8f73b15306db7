"""Task definitions shared by both simulation backends (MuJoCo CPU and Isaac Lab): the TaskSpecs (:mod:`.reach`,
:mod:`.lift`, :mod:`.pick_place`), their MDP terms (:mod:`.mdp`), experts, the registry of tasks with their agents and
warm starts (:mod:`.registry`) and the episode bookkeeping both backends share (:mod:`.episode`).

Torch and plain data only: nothing here imports Isaac Lab, rsl-rl or the layers above (training, the backends,
deploy, real, lerobot_io, cli).
"""
