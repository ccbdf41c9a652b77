"""comity: sovereign nodes for international cooperation against cybercrime."""

__version__ = "0.1.0"
