"""The command-line tools, the top layer (they may import any other package): one module per command, each with
``main(argv: list[str] | None = None) -> int``. ``scripts/<name>.py`` and the ``roarm-*`` entry points
(pyproject.toml) call them.

Training and evaluation: :mod:`.train`, :mod:`.play`, :mod:`.export_onnx`, :mod:`.sim_to_sim`; LeRobot:
:mod:`.record_sim_demos`, :mod:`.eval_lerobot_policy`; assets: :mod:`.build_assets`, :mod:`.import_vendor_urdf`.
"""
