"""The inspection core: what a viewer or the Isaac Sim extension shows and drives, with no ``omni`` and no UI.

* :mod:`.scene` - a task scene in MuJoCo (the evaluation env of one episode): list tasks, load a policy (ONNX
  package or rsl-rl checkpoint), step it, read joints, targets and rewards, move joints by hand inside the
  hardware-safe limits, move a Reach target.
* :mod:`.replay` - a recorded run (``steps.jsonl``, or an episode of a LeRobot dataset of the arm or of sim demos):
  measured and commanded joints over time, the sample in force at any time.
* :mod:`.mirror` - a live mirror of the arm from the driver's feedback; read-only unless commanding is switched on
  explicitly, and then every target goes through the safety layer.
"""
