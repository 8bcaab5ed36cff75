"""Analysis: pure functions on arrays and tables (probes, LCA orderings, rankings, correlation,
ablation curves, overlap, verdicts, neuron descriptions); no file I/O."""
