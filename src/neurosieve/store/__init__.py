"""Store: tables in and out (Parquet, JSON), the corpus and activation tables; no torch."""
