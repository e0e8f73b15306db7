"""Asset writers: URDF, MJCF and USD generated from :mod:`roarm_lab.description` (``scripts/build_assets.py``)."""
