"""Mutation testing of the simulator: a catalogue of realistic planted bugs and a runner that
measures which of them the property suite kills (``braggcheck mutants``)."""
