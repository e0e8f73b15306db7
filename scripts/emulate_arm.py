"""Run the RoArm-M3 firmware emulator on a pseudo-terminal (and optionally TCP / HTTP).

    bash scripts/env.sh python scripts/emulate_arm.py --boot-s 1 --tcp 5555 --http 8080
    bash scripts/env.sh python scripts/arm.py --port /dev/pts/N status

Same as ``python -m roarm_lab.emulator``; see ``--help`` for the fault-injection options.
"""

import sys

from roarm_lab.emulator.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
