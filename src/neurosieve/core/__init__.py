"""Core: what every layer may read (the registry of token properties, logging set-up for jobs,
the static import scan that digests the package code a rule relies on); no torch."""
