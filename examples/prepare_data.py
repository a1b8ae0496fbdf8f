"""Prepare step of the digits pipelines: write a dated snapshot of the data set.

    python prepare_data.py --snapshot 2026-11-25 [--data_root DIR]

Writes ``<root>/digits/<snapshot>/digits.npz`` (images, labels) and ``manifest.json`` (date,
counts, sha256), where ``<root>`` is ``--data_root``, else ``$VTM_HOME/datasets``. The folder
appears complete or not at all (written aside, then renamed), so a training step never reads a
half-written snapshot; preparing the same date again replaces it. ``digits-cnn`` trains on it
with ``--snapshot``. In a pipeline the date is Airflow's logical date (``"{{ ds }}"``), so a
backfill of three past days prepares three snapshots.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "trainers"))

from digits_task import snapshot_dir

try:
    from vtm.reporting import meta, progress
except ImportError:  # the protocol needs no library: print the lines by hand

    def progress(
        epoch: int | None = None, total_epochs: int | None = None, **values: object
    ) -> None:
        keys = {"epoch": epoch, "total_epochs": total_epochs}
        print(
            "VTM_PROGRESS::"
            + json.dumps({**{k: v for k, v in keys.items() if v is not None}, **values}),
            flush=True,
        )

    def meta(**values: object) -> None:
        print("VTM_RUN_META::" + json.dumps(values), flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Write a dated snapshot of the digits data.")
    parser.add_argument("--snapshot", required=True, help="the snapshot's date, YYYY-MM-DD")
    parser.add_argument("--data_root", default="", help="where snapshots go; '': VTM's datasets")
    args = parser.parse_args(argv)
    try:
        dt.date.fromisoformat(args.snapshot)
    except ValueError:
        parser.error(f"--snapshot {args.snapshot!r} is not a date such as 2026-11-25")
    return args


def main() -> int:
    args = parse_args()
    import numpy as np
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    labels = digits.target.astype(np.int64)
    target = snapshot_dir(args.snapshot, args.data_root)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{args.snapshot}-", dir=target.parent))
    try:
        np.savez(staging / "digits.npz", images=images, labels=labels)
        digest = hashlib.sha256((staging / "digits.npz").read_bytes()).hexdigest()
        manifest = {
            "snapshot": args.snapshot,
            "images": len(labels),
            "classes": int(labels.max() + 1),
            "sha256": digest,
            "createdAt": dt.datetime.now(dt.UTC).isoformat(),
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    print(f"snapshot {args.snapshot}: {len(labels)} images -> {target}", flush=True)
    progress(images=len(labels))
    meta(snapshot=args.snapshot, path=str(target), sha256=digest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
