"""Ingestion: export files → validated, converted, deduplicated canonical rows."""
