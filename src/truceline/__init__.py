"""truceline: monitor ceasefires from space.

FIRMS active-fire detections, control maps and an agreement's terms go in; incidents,
an honest verdict and signed, reproducible reports come out.
"""

__version__ = "0.1.0"
