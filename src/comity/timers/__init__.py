"""Durable timers: deadlines that survive restarts and fire exactly once."""
