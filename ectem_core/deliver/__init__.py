"""Stage 6 — deliverables: the validation report (`report/`) and versioned bundles with the
local store (`store`) and the static bundle index (`index`)."""
