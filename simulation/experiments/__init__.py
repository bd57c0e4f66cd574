"""The experiments layer: replications of a scenario, locally or on worker processes."""
