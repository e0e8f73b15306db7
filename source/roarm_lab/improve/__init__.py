"""The self-improvement loop (issue 16, docs/improve.md): deploy the current policy on the arm and record it,
identify a robot profile from everything recorded, fine-tune in MuJoCo with that profile, gate the candidate, and
deploy it in the next round.

Layer 5: it drives the arm only through the runner (bytes on the port) and never reads the emulator's truth.
"""
