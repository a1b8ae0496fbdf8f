"""The Hugging Face Trainer: ``Trainer(callbacks=[VtmCallback()])``.

Each time the Trainer logs (``logging_steps``, evaluation) it reports the logs with the
global step as the metrics' x-axis and the fractional epoch Hugging Face keeps.
"""

from __future__ import annotations

from typing import Any

from transformers import TrainerCallback

from vtm_reporting import numbers, progress

__all__ = ["VtmCallback"]


class VtmCallback(TrainerCallback):  # type: ignore[misc]
    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **_: Any
    ) -> None:
        if not state.is_world_process_zero:
            return
        values = numbers(dict(logs or {}))
        values.pop("epoch", None)  # Hugging Face's own, as the state has it
        progress(
            epoch=state.epoch,
            total_epochs=state.num_train_epochs or None,
            step=state.global_step,
            **values,
        )
