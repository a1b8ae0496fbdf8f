"""A trainer inside a package, run as `python -m mypkg.train` (relative imports work)."""

import argparse

from tqdm import tqdm

from .schedule import steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--warmup", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    for _ in tqdm(range(steps(args.epochs, args.warmup)), desc="fit"):
        pass
    print(f"warmup={args.warmup}")


if __name__ == "__main__":
    main()
