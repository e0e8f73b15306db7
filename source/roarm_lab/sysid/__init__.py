"""System identification of the real arm (issue 15): ``sysid.py record`` drives a safe excitation plan and records
it as a LeRobot dataset (:mod:`.recording`); ``sysid.py fit`` replays the recorded commands through the MuJoCo arm
and fits its drive parameters with :mod:`mujoco.sysid` (:mod:`.fit`), writing a robot profile. docs/sysid.md.

Layer 3: it sees the arm only through the driver (bytes on the port), never the emulator.
"""
