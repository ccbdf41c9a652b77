"""The edges between nodes and people: the HTTP app, the delivery worker, the node runner."""
