"""The outputs layer: tidy frames from raw records, outcomes per replication, their summary,
and analytic estimates. Imports nothing from the engine but its records type.

Two registries say what a run reports: ``registry.FRAME_SPECS`` (each frame, how it is made,
its date columns) and ``outcomes.OUTCOMES`` (each outcome's unit, direction and breakdowns)."""
