"""Mynah's engine: inference and audio science. Imports torch, numpy, soundfile; never Qt."""
