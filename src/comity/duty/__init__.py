"""The 24/7 duty desk: roster, assignment of urgent requests, acknowledgement deadline,
escalation and hand-off to the central authority."""
