"""Hyperband, ASHA or BOHB on the hello-world network (scikit-learn's digits).

    python examples/hyperband_digits.py [--tuner hyperband|asha|bohb] [--max-epochs 20]

The schedule sets each trial's epochs; promoted trials continue their parent's weights and
optimizer state. Prints the results and how many epochs the search trained in all.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from hello_world import build_model, load_data

import hyperknob as kt


def main(argv: list[str] | None = None) -> kt.Tuner:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tuner", choices=["hyperband", "asha", "bohb"], default="hyperband")
    parser.add_argument("--max-epochs", type=int, default=20)
    parser.add_argument("--max-trials", type=int, default=30, help="ASHA only: runs, promotions included")
    parser.add_argument("--directory", default="runs")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    if os.environ.get("KERAS_BACKEND") == "torch":
        import torch

        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

    x_train, x_val, y_train, y_val = load_data()
    common = {"objective": "val_accuracy", "max_epochs": args.max_epochs, "factor": 3, "seed": 1,
                  "directory": args.directory, "project_name": args.tuner, "overwrite": args.overwrite}
    if args.tuner == "hyperband":
        tuner = kt.Hyperband(build_model, **common)
    elif args.tuner == "bohb":
        tuner = kt.BOHB(build_model, **common)
    else:
        tuner = kt.ASHA(build_model, max_trials=args.max_trials, **common)
    tuner.search(x_train, y_train, validation_data=(x_val, y_val), verbose=0)
    tuner.results_summary(3)
    trials = tuner.oracle.get_best_trials(10_000)
    epochs = sum(t.hyperparameters.values["tuner/epochs"] - t.hyperparameters.values["tuner/initial_epoch"] for t in trials)
    print(f"\n{len(trials)} trials, {epochs} epochs trained in all")
    return tuner


if __name__ == "__main__":
    main()
