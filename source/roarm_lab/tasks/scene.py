"""The task scene, simulator-neutral: the arm's base on a table top at world z = 0, and a 3 cm cube.

The cube stands for the small wooden blocks users grasp (30 mm fits the 70 mm jaws with room to spare); 20 g is
a 30 mm beech cube (~700 kg/m^3). Both backends build their scene from these numbers.
"""

TABLE_HALF_SIZE = (0.35, 0.45, 0.02)
TABLE_CENTER = (0.2, 0.0, -0.02)
TABLE_FRICTION = 0.8

CUBE_SIZE = 0.03
CUBE_MASS = 0.02
CUBE_FRICTION = 1.0
CUBE_REST_Z = CUBE_SIZE / 2

#: Where cubes (and PickPlace targets) are placed: polar box around the base axis, within a top-down grasp's reach.
OBJECT_RADIUS_RANGE = (0.17, 0.28)
OBJECT_AZIMUTH_RANGE = (-0.45, 0.45)
