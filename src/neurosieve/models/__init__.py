"""Models: the taggers trained here, fine-tuned and pretrained encoders, the extractors that read
their layers, and what each model sees of a word (input keys)."""
