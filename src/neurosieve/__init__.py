"""neurosieve: individual-neuron analysis of NLP models (Dalvi et al. 2019) as a Snakemake workflow.

Modules are named after what they compute: :mod:`neurosieve.data` (CoNLL-2000),
:mod:`neurosieve.models` (taggers trained here), :mod:`neurosieve.pretrained`
(Hugging Face encoders), :mod:`neurosieve.activations` (activation tables),
:mod:`neurosieve.correlation` (cross-model correlation), and the I/O helpers in
:mod:`neurosieve.io`.
"""

__version__ = "0.1.0"
