"""The Hugging Face Trainer on a tiny BERT built from a config (random weights, nothing
downloaded), its arguments from HfArgumentParser, tqdm on, TensorBoard reporting."""

import torch
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    HfArgumentParser,
    Trainer,
    TrainingArguments,
)


class Tokens(torch.utils.data.Dataset):
    """Sequences whose label is whether token 7 appears: learnable in a few steps."""

    def __init__(self, size: int) -> None:
        g = torch.Generator().manual_seed(size)
        self.ids = torch.randint(1, 30, (size, 12), generator=g)
        self.labels = (self.ids == 7).any(1).long()

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict:
        return {"input_ids": self.ids[i], "labels": self.labels[i]}


def main(callbacks: list | None = None) -> None:
    (args,) = HfArgumentParser(TrainingArguments).parse_args_into_dataclasses()
    config = BertConfig(
        vocab_size=32,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=16,
        num_labels=2,
    )
    model = BertForSequenceClassification(config)
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=Tokens(256),
        eval_dataset=Tokens(64),
        callbacks=callbacks,
    )
    trainer.train()
    print(trainer.evaluate())


if __name__ == "__main__":
    main()
