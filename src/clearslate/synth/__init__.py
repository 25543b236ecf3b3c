"""Seeded synthetic data: California DOJ research files for tests, demos and benchmarks."""

from clearslate.synth.generator import GenerateStats, generate_doj_file

__all__ = ["GenerateStats", "generate_doj_file"]
