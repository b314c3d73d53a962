"""A training script that knows nothing of hpsearch: flags in, JSON lines out.

    python train.py --lr 0.01 --momentum 0.9 --epochs 10

Each epoch prints {"epoch": ..., "loss": ...}; the last line is the final
{"val_loss": ..., "loss": ...}. hpsearch reads the metric from the last JSON line that has it.
"""

import argparse
import json
import math


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, required=True)
    parser.add_argument("--momentum", type=float, default=0.0)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    # Gradient descent with momentum on f(w) = (w - 3)^2 + 1, from w = -4.
    w, v, loss = -4.0, 0.0, 0.0
    for epoch in range(1, args.epochs + 1):
        for _ in range(10):
            v = args.momentum * v + (1 - args.momentum) * 2 * (w - 3)
            w -= args.lr * v
        loss = (w - 3) ** 2 + 1
        print(json.dumps({"epoch": epoch, "loss": loss}), flush=True)
        if not math.isfinite(loss):
            raise SystemExit(f"diverged at epoch {epoch}")
    print(json.dumps({"val_loss": loss * 1.05, "loss": loss}))


if __name__ == "__main__":
    main()
