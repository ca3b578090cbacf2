"""All SQL of merchants, by concept: markets, stalls, accounts, registration (and
Idempotency-Keys), signs, print jobs, imports, sealing."""
