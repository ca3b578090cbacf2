"""All SQL of coverage, by concept: counts (the numbers and row shapes), rule, stalls, counters,
new_stalls, snapshots, recount, job, reads, history, exports."""
