"""PyTorch Lightning: ``Trainer(callbacks=[VtmCallback()])``.

After each training epoch (its validation included) it reports the epoch (1-based),
``max_epochs``, the global step and Lightning's ``callback_metrics`` (what ``self.log``
logged), so the run page shows them live, next to Lightning's own progress bar.
"""

from __future__ import annotations

from typing import Any

from vtm_reporting import numbers, progress

try:  # the unified package first, then the standalone one
    from lightning.pytorch import Callback
except ImportError:  # pragma: no cover - depends on what the trainer installed
    from pytorch_lightning import Callback

__all__ = ["VtmCallback"]


class VtmCallback(Callback):  # type: ignore[misc]
    def _report(self, trainer: Any) -> None:
        if getattr(trainer, "sanity_checking", False) or not trainer.is_global_zero:
            return
        total = trainer.max_epochs if trainer.max_epochs and trainer.max_epochs > 0 else None
        progress(
            epoch=trainer.current_epoch + 1,
            total_epochs=total,
            step=trainer.global_step,
            **numbers(dict(trainer.callback_metrics)),
        )

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        self._report(trainer)
