"""A Hydra app: its config in conf/, overrides on the command line, a tqdm loop; Hydra writes
outputs/<date>/<time>/ in the working directory."""

import random

import hydra
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm


@hydra.main(config_path="conf", config_name="config", version_base=None)
def main(cfg: DictConfig) -> None:
    print(OmegaConf.to_yaml(cfg))
    rng = random.Random(cfg.get("seed", 0))
    for _ in tqdm(range(cfg.epochs * cfg.data.size), desc="train"):
        rng.random()
    print(f"trained with {cfg.optimizer.name} at lr {cfg.optimizer.lr}")
    if "note" in cfg:
        print(f"note=[{cfg.note}]")


if __name__ == "__main__":
    main()
