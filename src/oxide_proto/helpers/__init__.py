"""Accumulators, partial JSON and JSON schemas for structured outputs."""
