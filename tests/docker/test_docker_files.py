"""The container files, checked without a Docker daemon: docker/Dockerfile (CPU), docker/Dockerfile.gpu (Isaac Lab
base), docker/compose.yaml, .dockerignore and docker/isaaclab_overlay.py (the GPU image's pins).

Building and running the images is described, with the measured figures, in docs/docker.md.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
DOCKERFILES = {"cpu": DOCKER / "Dockerfile", "gpu": DOCKER / "Dockerfile.gpu"}
# where the images keep the checkout (WORKDIR): the services' relative paths start there
WORKDIR = "/opt/roarm-lab/src"
CORE_SERVICES = ("train", "test", "play_real", "emulate_arm")


# ---------------------------------------------------------------------------------------------------------------
# helpers: a small Dockerfile reader, compose variable defaults, .dockerignore matching


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order: continuation lines joined, comment lines dropped."""
    out, buf = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if buf and line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        word, _, rest = buf.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        buf = ""
    assert not buf, f"{path.name} ends inside a continued instruction"
    return out


def arg_defaults(instrs: list[tuple[str, str]]) -> dict[str, str]:
    defaults = {}
    for word, rest in instrs:
        if word == "ARG" and "=" in rest:
            name, _, value = rest.partition("=")
            defaults[name.strip()] = value.strip()
    return defaults


def expand(text: str, variables: dict[str, str]) -> str:
    """${NAME}, ${NAME:-default} and $NAME with the given values (the defaults when unset)."""

    def sub(m: re.Match) -> str:
        name, default = m.group(1) or m.group(3), m.group(2)
        return variables.get(name, default if default is not None else "")

    return re.sub(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)", sub, text)


def compose_default(value):
    """A compose value with every ${VAR:-default} at its default (what runs when nothing is set)."""
    if isinstance(value, str):
        return expand(value, {})
    if isinstance(value, list):
        return [compose_default(v) for v in value]
    if isinstance(value, dict):
        return {k: compose_default(v) for k, v in value.items()}
    return value


def ignore_patterns() -> list[tuple[bool, str]]:
    patterns = []
    for line in (REPO / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            negated = line.startswith("!")
            patterns.append((negated, line.lstrip("!").rstrip("/").removeprefix("./")))
    return patterns


def ignored(rel: str) -> bool:
    """Docker's rule: the last matching pattern wins; a pattern matching a folder excludes what is inside it."""
    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for negated, pattern in ignore_patterns():
        if pattern.startswith("**/"):
            tail = pattern[3:]
            hit = any(fnmatch.fnmatchcase(p, tail) for p in parts) or fnmatch.fnmatchcase(rel, tail)
        else:
            hit = any(fnmatch.fnmatchcase(p, pattern) for p in prefixes)
        if hit:
            result = not negated
    return result


@pytest.fixture(scope="module")
def compose() -> dict:
    data = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return {name: compose_default(svc) for name, svc in compose["services"].items()}


def script_module_source(script: str) -> str:
    """The source of the module a scripts/*.py shim runs (``from roarm_lab.X import main``), or the script's own."""
    text = (REPO / script).read_text()
    m = re.search(r"^from (roarm_lab(?:\.\w+)+) import main$", text, re.MULTILINE)
    if not m:
        return text
    module = REPO / "source" / Path(*m.group(1).split("."))
    path = module.with_suffix(".py") if module.with_suffix(".py").is_file() else module / "__init__.py"
    return path.read_text()


def flags(args: list[str]) -> list[str]:
    return [a for a in args if re.fullmatch(r"--[a-z][a-z0-9_-]*", a)]


def volume_targets(svc: dict) -> dict[str, str]:
    """container path -> host path of the service's short-syntax bind mounts."""
    out = {}
    for v in svc.get("volumes", []):
        host, _, rest = v.partition(":")
        out[rest.split(":")[0]] = host
    return out


# ---------------------------------------------------------------------------------------------------------------
# Dockerfiles


@pytest.mark.parametrize("kind", sorted(DOCKERFILES))
def test_dockerfile_base_is_an_arg_declared_before_from(kind):
    instrs = instructions(DOCKERFILES[kind])
    words = [w for w, _ in instrs]
    first_from = words.index("FROM")
    assert [w for w, _ in instrs[:first_from]] == ["ARG"] and any(
        rest.startswith("BASE_IMAGE=") for _, rest in instrs[:first_from]), "ARG BASE_IMAGE=... must precede FROM"
    assert instrs[first_from][1] == "${BASE_IMAGE}"
    assert words.count("FROM") == 1
    base = arg_defaults(instrs[:first_from])["BASE_IMAGE"]
    if kind == "cpu":
        assert base == "python:3.12-slim"
    else:
        assert re.fullmatch(r"nvcr\.io/nvidia/isaac-lab:3\.\d+\.\d+.*", base), base


@pytest.mark.parametrize("kind", sorted(DOCKERFILES))
def test_dockerfile_runs_as_a_non_root_user(kind):
    instrs = instructions(DOCKERFILES[kind])
    users = [expand(rest, arg_defaults(instrs)) for word, rest in instrs if word == "USER"]
    assert users, "no USER instruction"
    last = users[-1].split(":")[0]
    assert last not in ("root", "0", ""), f"the image ends as {users[-1]!r}"
    if kind == "cpu":
        # the environment is built by the runtime user (it owns ROARM_LAB_VENV), not by root
        env_run = next(i for i, (w, rest) in enumerate(instrs) if w == "RUN" and "scripts/env.sh" in rest)
        user_before = [expand(rest, arg_defaults(instrs)) for w, rest in instrs[:env_run] if w == "USER"]
        assert user_before and user_before[-1] not in ("root", "0")


@pytest.mark.parametrize("kind", sorted(DOCKERFILES))
def test_ca_bundle_only_as_a_build_secret(kind):
    instrs = instructions(DOCKERFILES[kind])
    for word, rest in instrs:
        if word in ("COPY", "ADD"):
            assert not re.search(r"\.(crt|pem|cer)\b|ca-certificates|secret", rest, re.IGNORECASE), \
                f"{word} {rest}: certificates only as a build secret"
        if word in ("ENV", "ARG", "LABEL"):
            assert "/run/secrets" not in rest, f"{word} {rest}: a secret path must not outlive its RUN"
        if word == "RUN" and "/run/secrets/ca" in rest:
            assert re.search(r"--mount=type=secret,id=ca\b", rest), rest
            assert "required=false" in rest, "the build must work without the secret too"
    # every step that may download (apt, pip, the project's env.sh) gets the secret, and uses it only when given
    # (a plain `docker build` has no /run/secrets/ca)
    downloading = [rest for word, rest in instrs if word == "RUN" and re.search(r"apt-get|pip install|env\.sh", rest)]
    assert len(downloading) >= 2
    for rest in downloading:
        assert re.search(r"--mount=type=secret,id=ca,required=false\b", rest), f"no CA secret: {rest[:120]}"
        assert "[ -s /run/secrets/ca ]" in rest, f"the secret is used unconditionally: {rest[:120]}"


@pytest.mark.parametrize("kind", sorted(DOCKERFILES))
def test_copied_paths_exist_and_are_in_the_build_context(kind):
    for word, rest in instructions(DOCKERFILES[kind]):
        if word != "COPY":
            continue
        args = [a for a in shlex.split(rest) if not a.startswith("--")]
        for src in args[:-1]:
            if src == ".":
                continue
            assert (REPO / src).exists(), f"COPY {src}: not in the repository"
            assert not ignored(src), f"COPY {src}: excluded by .dockerignore"


def test_cpu_environment_layer_depends_only_on_the_stamped_files():
    """scripts/env.sh rebuilds the environment when the files its stamp() hashes change: exactly those are copied
    before the environment's RUN, and the rest of the checkout only after it (source edits keep the 9 GB layer)."""
    instrs = instructions(DOCKERFILES["cpu"])
    env_run = next(i for i, (w, rest) in enumerate(instrs) if w == "RUN" and "scripts/env.sh" in rest)
    copy_all = next(i for i, (w, rest) in enumerate(instrs) if w == "COPY" and shlex.split(rest)[-2:] == [".", "."])
    assert env_run < copy_all
    copied_before = set()
    for word, rest in instrs[:env_run]:
        if word == "COPY":
            *sources, dest = [a for a in shlex.split(rest) if not a.startswith("--")]
            for src in sources:
                if dest in (".", "./"):
                    copied_before.add(src)
                elif dest.endswith("/"):
                    copied_before.add(dest + Path(src).name)
                else:
                    assert len(sources) == 1
                    copied_before.add(dest)
    copied_before = {p.removeprefix("./") for p in copied_before}

    env_sh = (REPO / "scripts" / "env.sh").read_text()
    stamp = re.search(r"^stamp\(\) \{\n(.*?)^\}", env_sh, re.MULTILINE | re.DOTALL)
    assert stamp, "scripts/env.sh has no stamp() function"
    stamped = set(re.findall(r'\$ROOT/([\w./-]+)', stamp.group(1)))
    if "PLUGINS" in stamp.group(1):
        plugins = re.findall(r'"\$ROOT/(source/lerobot_plugins/\w+)"', env_sh)
        assert len(plugins) == 2
        stamped |= {f"{p}/pyproject.toml" for p in plugins}
    assert {"pyproject.toml", "constraints.txt", "scripts/env.sh"} <= stamped
    assert stamped == copied_before, (stamped, copied_before)
    # the environment lives outside the checkout, at a fixed path owned by the runtime user
    env = " ".join(rest for w, rest in instrs if w == "ENV")
    assert re.search(r"ROARM_LAB_VENV=/opt/roarm-lab/venv\b", env)
    assert "MUJOCO_GL=egl" in env


def test_cpu_image_has_what_headless_mujoco_and_rsl_rl_need():
    run = " ".join(rest for w, rest in instructions(DOCKERFILES["cpu"]) if w == "RUN")
    for package in ("libegl1", "libegl-mesa0", "libgl1", "libgl1-mesa-dri", "git"):
        assert re.search(rf"\s{re.escape(package)}\s", run), package


def test_gpu_image_keeps_the_base_images_isaac_lab_and_torch():
    instrs = instructions(DOCKERFILES["gpu"])
    runs = [rest for w, rest in instrs if w == "RUN"]
    pip = [r for r in runs if "pip install" in r]
    assert pip
    for r in pip:
        # either pinned to what the image has (the overlay's constraints) or installed without dependencies
        assert "-c /tmp/roarm-overlay/constraints.txt" in r or "--no-deps" in r, r
        assert not re.search(r"pip install[^&;]*\b(torch|isaaclab|isaacsim)\b", r), r
    assert any("docker/isaaclab_overlay.py" in r for r in runs)


# ---------------------------------------------------------------------------------------------------------------
# docker/isaaclab_overlay.py


@pytest.fixture(scope="module")
def overlay():
    spec = importlib.util.spec_from_file_location("isaaclab_overlay", DOCKER / "isaaclab_overlay.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_overlay_requirements_leave_out_what_the_image_provides(overlay):
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    reqs = overlay.requirements(pyproject)
    names = {overlay.requirement_name(r) for r in reqs}
    assert not names & {"isaaclab", "torch"}
    assert {"mujoco", "onnxruntime", "pyserial", "lerobot", "pytest", "rsl-rl-lib"} <= names


def test_overlay_pins_installed_versions_and_fills_the_rest_from_the_lock(overlay):
    installed = {"torch": "2.7.0+cu128", "isaaclab": "0.47.1", "numpy": "1.26.4", "roarm-lab": "0.0.1"}
    lock = ["torch==2.11.0", "numpy==2.2.6", "mujoco==3.12.0  # a comment", "", "# only a comment"]
    pins = overlay.constraints(lock, installed, own={"roarm-lab"})
    assert "torch==2.7.0+cu128" in pins and "numpy==1.26.4" in pins and "isaaclab==0.47.1" in pins
    assert "mujoco==3.12.0" in pins
    assert not any(p.startswith(("torch==2.11", "numpy==2.2", "roarm-lab")) for p in pins)


# ---------------------------------------------------------------------------------------------------------------
# compose.yaml


def test_compose_has_the_services_on_the_right_images(services):
    assert set(CORE_SERVICES) <= set(services)
    for name in (*CORE_SERVICES, "play_emulated"):
        svc = services[name]
        assert svc["image"] == "roarm-lab:cpu", name
        assert svc["build"]["dockerfile"] == "docker/Dockerfile" and svc["build"]["context"] == ".."
        assert svc["build"]["args"]["BASE_IMAGE"] == "python:3.12-slim"
    gpu = services["train-gpu"]
    assert gpu["build"]["dockerfile"] == "docker/Dockerfile.gpu"
    assert gpu["build"]["args"]["BASE_IMAGE"].startswith("nvcr.io/nvidia/isaac-lab:3.")
    assert gpu["profiles"] == ["gpu"], "only started when asked for"
    (device,) = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]


@pytest.mark.parametrize("name", ["train", "play_real", "emulate_arm", "play_emulated", "train-gpu"])
def test_service_runs_a_script_of_the_repo_with_options_it_has(services, name):
    svc = services[name]
    entry, command = svc["entrypoint"], svc["command"]
    assert entry[0] in ("python", "roarm-python")
    script = entry[1]
    assert (REPO / script).is_file(), f"{name}: {script} is not in the repository"
    source = script_module_source(script)
    for flag in flags(command):
        assert f'"{flag}"' in source, f"{name}: {script} has no option {flag}"


def test_train_service_runs_reach_and_keeps_its_logs(services):
    svc = services["train"]
    assert svc["entrypoint"] == ["python", "scripts/train.py"]
    assert svc["command"][:2] == ["--task", "RoArm-Reach"]
    assert volume_targets(svc)[f"{WORKDIR}/logs"] == "../logs"


def test_test_service_runs_the_fast_tier(services):
    svc = services["test"]
    assert svc["entrypoint"] == ["python", "-m", "pytest"]
    command = svc["command"]
    assert command[command.index("-m") + 1] == "not slow"
    markers = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["markers"]
    assert any(m.startswith("slow:") for m in markers)


def test_play_real_passes_the_serial_device_through(services):
    svc = services["play_real"]
    (device,) = svc["devices"]
    host, container = device.split(":")
    assert host == "/dev/ttyUSB0" and container == "/dev/ttyUSB0"
    command = svc["command"]
    assert command[command.index("--port") + 1] == container
    assert "--policy" in command
    targets = volume_targets(svc)
    assert targets[f"{WORKDIR}/logs"] == "../logs" and targets[f"{WORKDIR}/data"] == "../data"
    # stopping the container ends the run like Ctrl+C: the runner holds the arm (T:102), never drops it
    assert svc["stop_signal"] == "SIGINT"
    # the host variable really is ROARM_PORT
    raw = yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"]["play_real"]["devices"][0]
    assert raw.startswith("${ROARM_PORT:-")


def test_emulator_serves_tcp_that_play_emulated_connects_to(services):
    emu = services["emulate_arm"]
    command = emu["command"]
    assert command[command.index("--host") + 1] == "0.0.0.0", "reachable from the other containers"
    tcp = command[command.index("--tcp") + 1]
    assert f"{tcp}" in {p.split(":")[-1] for p in emu["ports"]}
    assert "--no-pty" in command
    play = services["play_emulated"]
    port = play["command"][play["command"].index("--port") + 1]
    assert port == f"socket://emulate_arm:{tcp}"
    assert "emulate_arm" in play["depends_on"]
    assert "devices" not in play


# ---------------------------------------------------------------------------------------------------------------
# .dockerignore


def test_dockerignore_keeps_run_outputs_and_history_out_and_the_project_in():
    for path in ("logs", "logs/rsl_rl/RoArm-Reach/run/model_0.pt", ".git", "outputs", "data",
                 "source/roarm_lab/__pycache__/x.cpython-312.pyc", "source/roarm_lab.egg-info", ".pytest_cache",
                 "policy.onnx"):
        assert ignored(path), f"{path} would be sent to the build"
    for path in ("pyproject.toml", "constraints.txt", "scripts/env.sh", "scripts/train.py", "source/roarm_lab",
                 "tests/conftest.py", "docker/isaaclab_overlay.py", "README.md",
                 "source/lerobot_plugins/lerobot_robot_roarm_m3/pyproject.toml"):
        assert not ignored(path), f"{path} is needed in the image"
