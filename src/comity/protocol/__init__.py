"""The wire protocol between nodes: envelopes, receipts, procedural acts and state machines.

Pure code: no database, no network. Both nodes of a conversation run exactly this code.
"""
