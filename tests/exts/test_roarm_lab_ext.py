"""The Isaac Sim extension (exts/roarm_lab_ext) as far as it runs without Isaac Sim: its extension.toml, its
omni-free package and controller (run for real on the inspection core), the USD posing (real pxr, against the
forward kinematics), and - with stand-in omni modules - the wiring of the window's widgets to the controller.
The last test checks wiring only, not Kit: the real window runs in Kit's own test (roarm_lab_ext/tests)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import types
from pathlib import Path

import numpy as np
import pytest
from pxr import Usd, UsdGeom

from roarm_lab import kinematics
from roarm_lab.assets.paths import USD_PATH
from roarm_lab.description import HARDWARE_SAFE, LINK_NAMES
from roarm_lab.inspection.usd_pose import link_world_poses, read_target, write_link_poses, write_markers

EXT = Path(__file__).resolve().parents[2] / "exts" / "roarm_lab_ext"


@pytest.fixture(autouse=True)
def ext_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(EXT))


def world(stage, path: str) -> np.ndarray:
    return np.array(UsdGeom.Xformable(stage.GetPrimAtPath(path)).ComputeLocalToWorldTransform(0)).T


def test_extension_toml_names_modules_that_exist_and_a_kit_test():
    config = tomllib.loads((EXT / "config" / "extension.toml").read_text())
    modules = [m["name"] for m in config["python"]["module"]]
    assert modules == ["roarm_lab_ext", "roarm_lab_ext.ui_extension"]
    for name in modules:
        path = EXT / Path(*name.split("."))
        assert (path / "__init__.py").is_file() or path.with_suffix(".py").is_file(), name
    assert (EXT / config["package"]["readme"]).is_file()
    assert config["test"][0]["dependencies"] and (EXT / "roarm_lab_ext" / "tests" / "test_window.py").is_file()
    assert "class RoArmLabExtension(omni.ext.IExt)" in (EXT / "roarm_lab_ext" / "ui_extension.py").read_text()


def test_package_and_controller_import_without_omni():
    """(The environment has an ``omni`` namespace package, omniverseclient's ``omni.client``: what must not be
    imported are Kit's modules.)"""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import roarm_lab_ext, roarm_lab_ext.controller, "
            "roarm_lab_ext.tests; print(sorted(m for m in sys.modules if m.split('.')[:2] in "
            "(['omni', 'kit'], ['omni', 'ui'], ['omni', 'ext'], ['omni', 'usd'])))")
    out = subprocess.run([sys.executable, "-c", code, str(EXT)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_usd_posing_matches_the_forward_kinematics():
    """The generated USD posed for a joint vector: every link's world transform is the FK's, and the TCP prim (a
    child of link5, authored at rest) lands on the FK's TCP."""
    stage = Usd.Stage.Open(str(USD_PATH))
    rest = {name: world(stage, f"/roarm_m3_pro/{name}") for name in LINK_NAMES}
    for name, pose in link_world_poses(np.zeros(6)).items():
        np.testing.assert_allclose(rest[name], pose, atol=1e-6, err_msg=name)
    q = np.array([0.5, 0.3, 1.2, -0.4, 0.7, 0.6])
    write_link_poses(stage, q)
    for name, pose in link_world_poses(q).items():
        np.testing.assert_allclose(world(stage, f"/roarm_m3_pro/{name}"), pose, atol=1e-6, err_msg=name)
    np.testing.assert_allclose(world(stage, "/roarm_m3_pro/link5/tcp")[:3, 3], kinematics.tcp_position(q), atol=1e-6)
    write_markers(stage, cube_pos=(0.2, 0.05, 0.015), cube_quat_wxyz=(1, 0, 0, 0), target=(0.25, 0.0, 0.2))
    assert read_target(stage) == pytest.approx((0.25, 0.0, 0.2))
    np.testing.assert_allclose(world(stage, "/World/roarm_inspection/cube")[:3, 3], (0.2, 0.05, 0.015))
    write_markers(stage)  # nothing to show: hidden, not deleted
    prim = stage.GetPrimAtPath("/World/roarm_inspection/target")
    assert UsdGeom.Imageable(prim).ComputeVisibility() == UsdGeom.Tokens.invisible


def test_controller_drives_the_inspection_core(tmp_path):
    from roarm_lab_ext.controller import InspectorController

    shown = []
    c = InspectorController(shown.append)
    c.select_task("RoArm-Reach")
    c.open_scene(seed=0)
    assert c.mode == "scene" and shown[-1].joint_pos == c.scene.frame.joint_pos
    assert shown[-1].target == c.scene.frame.command and shown[-1].cube_pos is None
    c.load_policy(str(tmp_path / "missing.onnx"))
    assert "no policy" in c.message
    c.set_joint(0, 0.4)
    for _ in range(45):
        c.step()
    assert abs(shown[-1].joint_pos[0] - 0.4) < 0.03 and c.scene.frame.source == "hand"
    c.set_joint(1, 9.0)  # far past the shoulder's limit: clipped
    assert float(c.scene.hand_targets[1]) == pytest.approx(HARDWARE_SAFE.upper[1])
    c.move_target((0.9, 0.0, 0.2))
    assert "cannot reach" in c.message
    c.set_playing(True)
    steps = c.scene.frame.step
    c.tick(0.1)  # three control steps
    assert c.scene.frame.step == steps + 3
    c.open_replay(str(tmp_path / "nothing"))
    assert "not a LeRobot dataset" in c.message and c.mode == "scene"  # bad input loses nothing


def fake_omni(stage):
    """Stand-ins for the omni modules the window uses: widgets that keep their callbacks so a test can fire them,
    and a USD context whose stage is a real pxr stage."""

    class Model:
        def __init__(self, value=None):
            self.value, self.fns = value, []

        as_string = property(lambda self: self.value)
        as_bool = property(lambda self: bool(self.value))
        as_float = property(lambda self: float(self.value))
        as_int = property(lambda self: int(self.value))

        def add_value_changed_fn(self, fn):  # Kit calls fn(model)
            self.fns.append(fn)

        def add_item_changed_fn(self, fn):  # Kit calls fn(model, item)
            self.fns.append(lambda model: fn(model, None))

        def get_item_value_model(self):
            return self

        def set(self, value):
            self.value = value
            for fn in self.fns:
                fn(self)

    widgets = []

    class Widget:
        def __init__(self, *args, **kwargs):
            self.args, self.kwargs, self.text = args, kwargs, args[0] if args and isinstance(args[0], str) else ""
            self.model = Model(args[0] if args and not isinstance(args[0], str) else None)
            self.clicked_fn = kwargs.get("clicked_fn")
            widgets.append(self)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    class Window(Widget):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.frame = Widget()

    ui = types.SimpleNamespace(**{name: type(name, (Widget,), {}) for name in (
        "VStack", "HStack", "Label", "Button", "ComboBox", "StringField", "CheckBox", "FloatSlider")}, Window=Window)
    opened = []
    context = types.SimpleNamespace(open_stage=opened.append, get_stage=lambda: stage)
    subscriptions = []
    stream = types.SimpleNamespace(create_subscription_to_pop=lambda fn, name=None: subscriptions.append(fn) or fn)
    app = types.SimpleNamespace(get_update_event_stream=lambda: stream)
    kit = types.SimpleNamespace(app=types.SimpleNamespace(get_app=lambda: app))
    omni = types.SimpleNamespace(ext=types.SimpleNamespace(IExt=object), ui=ui,
                                 usd=types.SimpleNamespace(get_context=lambda: context), kit=kit)
    modules = {"omni": omni, "omni.ext": omni.ext, "omni.ui": ui, "omni.usd": omni.usd, "omni.kit": kit,
               "omni.kit.app": kit.app}
    return modules, widgets, opened, subscriptions


def test_window_widgets_call_the_controller(monkeypatch, tmp_path):
    """Wiring only (stand-in omni modules): each widget's callback reaches the controller, and the app update
    ticks it and poses the (real pxr) stage."""
    stage = Usd.Stage.Open(str(USD_PATH))
    modules, widgets, opened, subscriptions = fake_omni(stage)
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.delitem(sys.modules, "roarm_lab_ext.ui_extension", raising=False)
    from roarm_lab_ext import ui_extension

    ext = ui_extension.RoArmLabExtension()
    ext.on_startup("roarm_lab_ext")
    c = ext.controller

    def button(text):
        return next(w for w in widgets if type(w).__name__ == "Button" and w.text == text)

    combo = next(w for w in widgets if type(w).__name__ == "ComboBox")
    combo.model.set(c.tasks.index("RoArm-Lift"))
    assert c.task == "RoArm-Lift"
    button("Open scene").clicked_fn()
    assert opened == [str(USD_PATH)] and c.mode == "scene" and c.scene.task == "RoArm-Lift"
    fields = [w for w in widgets if type(w).__name__ == "StringField"]
    fields[0].model.value = str(tmp_path / "missing.pt")
    button("Load policy").clicked_fn()
    label = [w for w in widgets if type(w).__name__ == "Label"][-1]
    assert "no policy" in label.text
    sliders = [w for w in widgets if type(w).__name__ == "FloatSlider"]
    assert [(s.kwargs["min"], s.kwargs["max"]) for s in sliders[:6]] == list(c.slider_ranges.values())
    sliders[2].model.set(1.0)
    assert float(c.scene.hand_targets[2]) == pytest.approx(1.0)
    play = next(w for w in widgets if type(w).__name__ == "CheckBox")
    play.model.set(True)
    assert c.playing
    steps = c.scene.frame.step
    subscriptions[0](types.SimpleNamespace(payload={"dt": 0.1}))  # one app update
    assert c.scene.frame.step == steps + 3
    q = c.scene.frame.joint_pos
    np.testing.assert_allclose(world(stage, "/roarm_m3_pro/link3"), link_world_poses(q)["link3"], atol=1e-6)
    np.testing.assert_allclose(world(stage, "/World/roarm_inspection/cube")[:3, 3], c.scene.frame.object_pos,
                               atol=1e-6)
    ext.on_shutdown()
    assert ui_extension.instance is None
