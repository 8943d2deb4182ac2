"""braggcheck's own simulator as target number one of the framework: its target, case extras,
strategies, physics checks, the differential oracle and the Tier-2 rows."""
