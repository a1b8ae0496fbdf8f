"""A LightningCLI app: `fit` subcommand, dotted flags (--model.lr, --trainer.max_epochs) and
bools as values (--trainer.enable_checkpointing=false)."""

import lightning as L
from lightning.pytorch.cli import LightningCLI
from lightning_argparse import Digits, loaders


class DigitsData(L.LightningDataModule):
    def __init__(self, batch_size: int = 64) -> None:
        super().__init__()
        self.batch_size = batch_size

    def train_dataloader(self):
        return loaders(self.batch_size)[0]

    def val_dataloader(self):
        return loaders(self.batch_size)[1]


class DigitsModel(Digits):
    def __init__(self, lr: float = 1e-2) -> None:
        super().__init__(lr)


if __name__ == "__main__":
    LightningCLI(DigitsModel, DigitsData)
