"""The Tier-2 table of braggcheck's simulator: rows, vector rows, report and pictures."""
