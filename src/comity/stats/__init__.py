"""Aggregated figures about this node's requests for review bodies, auditors and central
authorities: counts, times and grounds — never the content of a request."""
