"""Hypothesis strategies of valid (and invalid) nanoBragg configurations and property cases."""
