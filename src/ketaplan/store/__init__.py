"""What persists: the ledger, booking, plan changes, batches, private files, caches."""
