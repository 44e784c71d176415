"""The layer catalog: one entry per layer kind, with its arguments, shapes, weights and traits."""
