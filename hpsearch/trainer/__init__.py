"""The built-in NumPy trainer: an MLP with Batch Normalization and a softmax output.

>>> from hpsearch.trainer import train
>>> result = train({"learning_rate": 0.01, "epochs": 20}, dataset, seed=0)
>>> result.status, result.metrics["val_accuracy"]
"""

from hpsearch.trainer.model import MLP, Architecture
from hpsearch.trainer.train import TrainResult, resolve_hyperparams, train

__all__ = ["MLP", "Architecture", "TrainResult", "resolve_hyperparams", "train"]
