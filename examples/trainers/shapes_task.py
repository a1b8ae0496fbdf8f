"""The data and the network of task ``shapes-segmentation``, shared by its trainer and MLflow.

A module of its own so that a pickled model names its class ``shapes_task.TinySegNet`` (not
``__main__.TinySegNet``) and MLflow can rebuild it in another process: the trainer logs this
file with the model (``code_paths``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def make_shapes(n: int, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images (n,1,size,size float32 in [0,1]) and their masks (same shape, 0/1).

    Each image: a random grey background, one to three filled circles or rectangles of random
    brightness (sometimes darker than the background, so a plain threshold is not enough), and
    Gaussian noise. The mask is the union of the shapes.
    """
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    images = np.empty((n, 1, size, size), dtype=np.float32)
    masks = np.zeros((n, 1, size, size), dtype=np.float32)
    for i in range(n):
        background = rng.uniform(0.2, 0.6)
        img = np.full((size, size), background, dtype=np.float32)
        mask = np.zeros((size, size), dtype=bool)
        for _ in range(rng.integers(1, 4)):
            if rng.random() < 0.5:
                cy, cx = rng.uniform(0, size, 2)
                r = rng.uniform(size * 0.08, size * 0.25)
                shape = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
            else:
                y0, x0 = rng.integers(0, size - 2, 2)
                h, w = rng.integers(max(2, size // 8), max(3, size // 2), 2)
                shape = (yy >= y0) & (yy < y0 + h) & (xx >= x0) & (xx < x0 + w)
            # Keep a contrast of at least 0.25 against the background, up or down.
            offset = rng.uniform(0.25, 0.4) * (1 if rng.random() < 0.7 else -1)
            img[shape] = background + offset
            mask |= shape
        img += rng.normal(0, 0.08, img.shape).astype(np.float32)
        images[i, 0] = np.clip(img, 0.0, 1.0)
        masks[i, 0] = mask
    return images, masks


class TinySegNet(nn.Module):
    """Conv encoder (two stride-2 steps down), conv-transpose decoder (two steps up).

    U-Net-style skip connections hand the decoder the encoder's full- and half-resolution
    features: the bottleneck alone knows *what* is there but has lost *where* the edges are.
    """

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        self.down0 = _block(1, width)
        self.down1 = _block(width, width * 2, stride=2)  # /2
        self.down2 = _block(width * 2, width * 4, stride=2)  # /4
        self.up1 = nn.ConvTranspose2d(width * 4, width * 2, 2, stride=2)  # back to /2
        self.fuse1 = _block(width * 4, width * 2)
        self.up0 = nn.ConvTranspose2d(width * 2, width, 2, stride=2)  # back to full size
        self.fuse0 = _block(width * 2, width)
        self.head = nn.Conv2d(width, 1, 1)  # one logit per pixel: foreground or not

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f0 = self.down0(x)
        f1 = self.down1(f0)
        f2 = self.down2(f1)
        # Stride-2 convolutions round up, so a side that is not a multiple of 4 comes back a
        # little larger from each conv-transpose: crop to the skip's size before joining.
        u1 = self.up1(f2)[..., : f1.shape[-2], : f1.shape[-1]]
        d1 = self.fuse1(torch.cat([u1, f1], dim=1))
        u0 = self.up0(d1)[..., : f0.shape[-2], : f0.shape[-1]]
        d0 = self.fuse0(torch.cat([u0, f0], dim=1))
        out: torch.Tensor = self.head(d0)
        return out


def _block(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(),
    )
