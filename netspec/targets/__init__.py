"""Code generation: a registry per target (Keras, PyTorch, NumPy) over the checked IR."""
