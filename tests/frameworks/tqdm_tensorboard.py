"""A plain loop: tqdm for the bar, torch's SummaryWriter (default folder runs/ in the working
directory) for the scalars."""

import argparse
import math

from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=30)
parser.add_argument("--lr", type=float, default=0.1)
args = parser.parse_args()

writer = SummaryWriter()
for step in tqdm(range(args.steps)):
    writer.add_scalar("loss", math.exp(-args.lr * step), step)
    writer.add_scalar("accuracy", 1 - math.exp(-args.lr * step), step)
writer.close()
