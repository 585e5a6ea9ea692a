"""Podium: self-hosted platform for LLM model-submission challenges."""

__version__ = "0.1.0"
