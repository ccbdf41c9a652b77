"""Messages between nodes: the transactional outbox, the idempotent inbox, receipts and
negative evidence. Raw envelopes and receipts are stored unchanged as proof."""
