"""A test evaluation step: reports the --test_accuracy it is given, as a model's measure."""

import argparse
import json

parser = argparse.ArgumentParser()
parser.add_argument("--test_accuracy", type=float, default=0.5)
args = parser.parse_args()
print("VTM_PROGRESS::" + json.dumps({"test_accuracy": args.test_accuracy}), flush=True)
