"""The engine layer: one replication in SimPy, from a validated scenario and a seed to raw
records (:class:`simulation.engine.records.RawRun`). The only layer that imports SimPy.

Import what you need from its modules (``simulation.engine.run.run_model``); this package
imports nothing itself, so that the records type can be read without loading SimPy.
"""
