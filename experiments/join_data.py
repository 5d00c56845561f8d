"""Join data sets made by `harness data make` into one folder: the training pairs of some, the val pairs of
others.

`harness data make` holds out a seeded fifth of one folder's photographs for val, so a training set drawn
from two sources (CBSD68 and some of scikit-image's photographs) and a val set drawn only from photographs
none of them contains (the other scikit-image ones, one `harness data make --seed S` each) are made as
separate data sets and joined here. The tensors are concatenated in the order given.

    python -m experiments.join_data OUT --train /tmp/cbsd68 /tmp/sk4 --val /tmp/cbsd68
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from harness.dataset import TRAIN_FILE, VAL_FILE, load_train, load_val


def join(out_dir: Path, train_dirs: list[Path], val_dirs: list[Path]) -> tuple[int, int]:
    """Write `out_dir/train_data.pkl` from the pairs of `train_dirs` and `out_dir/val_data.pkl` from those
    of `val_dirs`; returns the number of training and val pairs."""
    trains = [load_train(folder / TRAIN_FILE) for folder in train_dirs]
    vals = [load_val(folder / VAL_FILE) for folder in val_dirs]
    train_pair = tuple(torch.cat([pair[side] for pair in trains]) for side in (0, 1))
    val_pair = tuple(torch.cat([pair[side] for pair in vals]) for side in (0, 1))
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.save(train_pair, out_dir / TRAIN_FILE)
    torch.save(val_pair, out_dir / VAL_FILE)
    return len(train_pair[0]), len(val_pair[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder the joined train_data.pkl and val_data.pkl go to")
    parser.add_argument("--train", type=Path, nargs="+", required=True, help="folders whose pairs train")
    parser.add_argument("--val", type=Path, nargs="+", required=True, help="folders whose val pairs score")
    arguments = parser.parse_args()
    train, val = join(arguments.out, arguments.train, arguments.val)
    print(f"wrote {arguments.out}: {train} train pairs, {val} val pairs")


if __name__ == "__main__":
    main()
