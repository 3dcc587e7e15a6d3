"""Client log shipping: capped, scrubbed batches written as JSON log lines."""
