"""The names `compile(...)` accepts: Keras losses, optimizers and metrics, with their aliases."""

from __future__ import annotations

LOSSES: tuple[str, ...] = (
    "binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
    "categorical_focal_crossentropy", "categorical_hinge", "cosine_similarity", "ctc", "dice",
    "hinge", "huber", "kl_divergence", "log_cosh", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_error", "mean_squared_logarithmic_error",
    "poisson", "sparse_categorical_crossentropy", "squared_hinge", "tversky",
)  # fmt: skip
LOSS_ALIASES: dict[str, str] = {
    "mse": "mean_squared_error",
    "mae": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error",
    "kld": "kl_divergence",
    "kullback_leibler_divergence": "kl_divergence",
    "logcosh": "log_cosh",
    "huber_loss": "huber",
}
OPTIMIZERS: tuple[str, ...] = (
    "adadelta", "adafactor", "adagrad", "adam", "adamw", "adamax", "ftrl", "lamb", "lion",
    "nadam", "rmsprop", "sgd",
)  # fmt: skip
METRICS: tuple[str, ...] = (
    "accuracy", "acc", "auc", "binary_accuracy", "binary_crossentropy", "categorical_accuracy",
    "categorical_crossentropy", "categorical_hinge", "cosine_similarity", "hinge", "kl_divergence",
    "log_cosh", "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_error",
    "mean_squared_logarithmic_error", "poisson", "precision", "recall", "root_mean_squared_error",
    "sparse_categorical_accuracy", "sparse_categorical_crossentropy",
    "sparse_top_k_categorical_accuracy", "squared_hinge", "top_k_categorical_accuracy",
    "mse", "mae", "mape", "msle", "f1_score",
)  # fmt: skip


def canonical_loss(name: str) -> str:
    """`mse` -> `mean_squared_error`; Keras class names (`MeanSquaredError`) too."""
    from netspec.layers.base import keras_snake_case

    snake = keras_snake_case(name)
    return LOSS_ALIASES.get(snake, snake)
