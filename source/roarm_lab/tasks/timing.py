"""One control rate for the sim, the ONNX package and the real-arm runner.

30 Hz: one T:102 line (~120 bytes) takes ~10 ms at 115200 baud 8N1 (hardware §1.1), and users hold 10-40 Hz write
rates over USB serial (hardware §1.5), so 30 Hz leaves headroom for a T:105 read each step. Physics runs at 240 Hz
(8 substeps a control step), fine enough for the jaw-cube contacts.
"""

CONTROL_HZ = 30.0
PHYSICS_DT = 1.0 / 240.0
DECIMATION = 8
CONTROL_DT = PHYSICS_DT * DECIMATION
assert abs(CONTROL_DT - 1.0 / CONTROL_HZ) < 1e-12
