"""All SQL of partners, by concept: registry, reach, accounts, onboardings, events (and payments),
views, imports, names. Credentials are read by `registry.partner_credentials` only."""
