"""Seeing the cube: ArUco markers on the cube, camera calibration (intrinsics from a ChArUco board, the camera's pose
in the arm's frame from a table board or hand-eye), the cube's pose from a camera frame, and camera sources.
OpenCV only (``cv2.aruco``); the arm's kinematics for hand-eye. See docs/camera.md."""
