"""Keras: ``model.fit(..., callbacks=[VtmCallback()])``.

After each epoch it reports the epoch (1-based), ``epochs`` and the epoch's logs (loss,
metrics, ``val_*``).
"""

from __future__ import annotations

from typing import Any

from keras.callbacks import Callback

from vtm_reporting import numbers, progress

__all__ = ["VtmCallback"]


class VtmCallback(Callback):  # type: ignore[misc]
    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        total = self.params.get("epochs") if isinstance(self.params, dict) else None
        progress(epoch=epoch + 1, total_epochs=total, **numbers(dict(logs or {})))
