"""The ONNX policy package: one self-contained ``.onnx`` file with the actor and everything a runner needs.

* :mod:`.export` - an rsl-rl actor -> package file; :mod:`.checkpoint` - run directories and checkpoints
* :mod:`.metadata` - the versioned metadata schema; :mod:`.observation_layout` - how each observation term is
  computed, as data
* :mod:`.package` - :class:`PolicyPackage`: load and validate, ``act``, observations and joint targets
* :mod:`.observation` - observation from arm feedback; :mod:`.action` - actions -> joint and firmware targets
* :mod:`.verify` - onnxruntime vs torch on random and simulated observations
"""

from roarm_lab.deploy.errors import PolicyPackageError
from roarm_lab.deploy.package import PolicyPackage

__all__ = ["PolicyPackage", "PolicyPackageError"]
