"""neurosieve: individual-neuron analysis of NLP models (Dalvi et al. 2019) as a Snakemake workflow.

Modules are named after what they compute: :mod:`neurosieve.data` (CoNLL-2000),
:mod:`neurosieve.models` and :mod:`neurosieve.training` (taggers trained here),
:mod:`neurosieve.pretrained` (Hugging Face encoders), :mod:`neurosieve.activations`
(activation tables), :mod:`neurosieve.correlation` (cross-model correlation),
:mod:`neurosieve.probing` (linguistic correlation analysis), :mod:`neurosieve.ablation`,
:mod:`neurosieve.figures` and :mod:`neurosieve.summary`; :mod:`neurosieve.config`
validates the workflow configuration and :mod:`neurosieve.io` writes outputs atomically.
"""

__version__ = "0.2.0"
