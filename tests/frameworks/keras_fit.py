"""Keras 3 (on PyTorch) fitting a small classifier, with vtm-reporting's one-line callback."""

import argparse

import keras
import numpy as np
from sklearn.datasets import load_digits
from vtm_reporting.keras import VtmCallback

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=3)
args = parser.parse_args()

x, y = load_digits(return_X_y=True)
model = keras.Sequential(
    [keras.Input((64,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10)]
)
model.compile(
    optimizer="adam",
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
model.fit(
    (x / 16).astype(np.float32),
    y,
    epochs=args.epochs,
    validation_split=0.2,
    verbose=2,
    callbacks=[VtmCallback()],
)
