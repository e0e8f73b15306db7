"""The physics twin: a stand-in real arm (MuJoCo in real time, servo loops on encoder steps, a hidden truth)
behind the same firmware layer as the kinematic emulator. Only the emulator process imports it."""
