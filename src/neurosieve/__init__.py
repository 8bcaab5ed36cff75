"""neurosieve: individual-neuron analysis of NLP models (Dalvi et al. 2019) as a Snakemake workflow.

The package is layered; each layer imports only from the layers above it in this list
(``tests/test_layering.py`` checks it):

- :mod:`neurosieve.core`: the registries (rankings, figures, token properties), every output path, job
  logging, the code digest;
- :mod:`neurosieve.store`: tables in and out (corpus, activations, provenance); no torch;
- :mod:`neurosieve.analysis`: pure functions on arrays and tables (probes, orderings, correlation,
  ablation curves, overlap, verdicts); no file I/O;
- :mod:`neurosieve.models`: taggers, fine-tuned and pretrained encoders, extractors (any ``nn.Module`` too);
- :mod:`neurosieve.api`: the Python API (extract, rank, test), on the functions the stages call;
- :mod:`neurosieve.settings`: frozen settings objects, one per stage (what it reads of the config);
- :mod:`neurosieve.config`: the workflow configuration, validated;
- :mod:`neurosieve.plan`: a run's targets and each job's inputs, from a validated config;
- :mod:`neurosieve.stages`: one module per rule family (settings in, analysis, tables out);
- :mod:`neurosieve.report`: figures and the summary, from tables.
"""

__version__ = "0.3.0"  # x-release-please-version
