"""The generic property-based gradient testing framework: works on any target; imports only
torch, numpy, hypothesis and braggcheck.util."""
