"""Stages: one module per rule family. Each entry reads its inputs through :mod:`neurosieve.store`,
calls :mod:`neurosieve.analysis` and :mod:`neurosieve.models`, and writes through the store.
Scripts under ``scripts/`` only hand Snakemake's inputs and params to these functions."""
