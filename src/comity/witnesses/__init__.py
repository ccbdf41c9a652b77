"""Peers as witnesses of this node's audit log: our signed checkpoints sent to them, theirs
kept, and a peer's question answered. See README.md."""
