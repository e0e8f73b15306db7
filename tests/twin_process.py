"""The twin as users run it, for the tests that check the host never reads its truth: ``emulate_arm.py --twin`` in
its own process, and a host command run in another process under an audit hook that records every file it opens
and which ``roarm_lab.emulator`` modules it imported."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

#: Runs in the host process: argv[1] is the CLI module (its ``main``), the rest its arguments.
_AUDITED = textwrap.dedent("""
    import importlib, json, sys
    opened = []
    sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" and args else None)
    rc = importlib.import_module(sys.argv[1]).main(sys.argv[2:])
    emulator_modules = sorted(m for m in sys.modules if m.startswith("roarm_lab.emulator"))
    print("AUDIT " + json.dumps({"rc": rc, "opened": opened, "emulator_modules": emulator_modules}))
""")


def start_twin(*args: str) -> tuple[subprocess.Popen, str]:
    """``python -m roarm_lab.emulator --twin`` with ``args``; returns it and its pseudo-terminal."""
    proc = subprocess.Popen([sys.executable, "-m", "roarm_lab.emulator", "--twin", "--boot-s", "0.2", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:  # the pty path comes first; the process keeps running
        if line.startswith("serial (pty): "):
            return proc, line.split(": ", 1)[1].strip()
    raise AssertionError(f"the twin did not start: {proc.wait()}")


def stop_twin(proc: subprocess.Popen) -> str:
    """Stop the twin; its whole output (the last line is its ``twin stats: {...}``)."""
    proc.terminate()
    out, _ = proc.communicate(timeout=30)
    return out


def run_audited(module: str, argv: list[str], timeout: float = 600) -> tuple[dict, subprocess.CompletedProcess]:
    """Run ``module``'s main(argv) in a process of its own under the audit hook: the hook's record (``rc``,
    ``opened``, ``emulator_modules``) and the finished process."""
    done = subprocess.run([sys.executable, "-c", _AUDITED, module, *argv], capture_output=True, text=True,
                          timeout=timeout)
    report = next((line for line in done.stdout.splitlines() if line.startswith("AUDIT ")), None)
    assert report is not None, done.stdout + done.stderr
    return json.loads(report[len("AUDIT "):]), done
