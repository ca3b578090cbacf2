"""All SQL of coverage, by concept: counters (and the rule), reads, exports."""
