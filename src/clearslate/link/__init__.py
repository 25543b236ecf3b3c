"""Linking people across Illinois sources: `people.link_people` (Splink on DuckDB), its settings
(`linking.yaml`), nicknames (`names.py`) and quality against known truth (`evaluate.py`)."""
