"""Train the iris weights: `python models/iris/train.py` writes 1/weights.npz.

Softmax regression by full-batch gradient descent on standardised features; numpy only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


def train(steps: int = 2000, rate: float = 0.5) -> dict[str, np.ndarray]:
    """Standardisation and softmax weights fitted to iris.csv, as float32 arrays."""
    table = np.loadtxt(HERE / "iris.csv", delimiter=",", skiprows=1)
    features, labels = table[:, :4], table[:, 4].astype(int)
    mean, scale = features.mean(axis=0), features.std(axis=0)
    x = (features - mean) / scale
    onehot = np.eye(3)[labels]
    weights, bias = np.zeros((4, 3)), np.zeros(3)
    for _ in range(steps):
        logits = x @ weights + bias
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        error = exp / exp.sum(axis=1, keepdims=True) - onehot
        weights -= rate * x.T @ error / len(x)
        bias -= rate * error.mean(axis=0)
    accuracy = ((x @ weights + bias).argmax(axis=1) == labels).mean()
    print(f"training accuracy {accuracy:.3f}")
    return {
        name: value.astype(np.float32)
        for name, value in [("mean", mean), ("scale", scale), ("weights", weights), ("bias", bias)]
    }


if __name__ == "__main__":
    fitted = train()
    np.savez(
        HERE / "1" / "weights.npz",
        mean=fitted["mean"],
        scale=fitted["scale"],
        weights=fitted["weights"],
        bias=fitted["bias"],
    )
