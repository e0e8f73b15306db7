"""The project's side of LeRobot: the arm's features as LeRobot names them, and LeRobot v3 datasets.

The follower and leader plugins (``source/lerobot_plugins/``) and
the dataset writers all use :mod:`.features`, so sim demos, `lerobot-record` and `play_real.py --record` produce
the same feature names in the same units.
"""
