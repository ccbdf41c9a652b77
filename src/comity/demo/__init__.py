"""The multi-node demo: fictional parties of docs/scenarios (XA–XE, providers) on 127.0.0.1."""
