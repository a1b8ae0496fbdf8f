"""A stand-in trainer that declares exactly the example catalog's flags."""

import argparse
import json

parser = argparse.ArgumentParser(description="classification trainer (test fixture)")
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--batch_size", type=int, default=32)
parser.add_argument("--lr", type=float, default=0.001)
parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
parser.add_argument("--augment", action="store_true")
parser.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
print(json.dumps(vars(parser.parse_args())))
