"""The outputs layer: tidy frames from raw records, outcomes per replication, their summary,
and analytic estimates. Imports nothing from the engine but its records type."""
