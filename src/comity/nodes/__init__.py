"""This node's identity: its participant id, key pairs (encrypted at rest) and API tokens."""
