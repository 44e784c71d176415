"""The baseline: find the same shape error by building the model in Keras, as a user would."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras

try:
    keras.Sequential(
        [
            keras.Input(shape=(4, 4, 1)),
            keras.layers.Conv2D(8, 5, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
except ValueError as exc:
    print(f"shape error: {exc}".splitlines()[0])
    raise SystemExit(1) from None
raise SystemExit(0)
