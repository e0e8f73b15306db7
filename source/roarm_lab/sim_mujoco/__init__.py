"""MuJoCo CPU backend: the tasks of :mod:`roarm_lab.tasks` on native MuJoCo, stepped by a threaded rollout."""
