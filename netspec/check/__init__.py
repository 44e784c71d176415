"""Checking: shape and weight inference over the IR, then the design rules."""
