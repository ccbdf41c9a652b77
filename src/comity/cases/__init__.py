"""Cooperation requests as conversations: one case per request on each node, moved only by
procedural acts through the kind's transition table."""
