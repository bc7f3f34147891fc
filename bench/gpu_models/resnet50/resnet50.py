"""The GPU bench model (python -m bench.gpu): torchvision's ResNet-50, untrained (the bench
measures throughput, not answers), on the first CUDA device. `predict` is what the bare loop
does: numpy -> GPU -> model -> numpy."""

from __future__ import annotations

from typing import Any

import numpy as np

from app import Predictor, Tensors


def resnet50() -> Any:
    """ResNet-50 on the GPU, ready to run (PyTorch and torchvision are imported here only)."""
    import torch
    import torchvision

    torch.backends.cudnn.benchmark = True
    return torchvision.models.resnet50(weights=None).eval().to("cuda")


def run(model: Any, images: np.ndarray) -> np.ndarray:
    """The model's logits for a batch of images, numpy in and out."""
    import torch

    with torch.inference_mode():
        logits = model(torch.from_numpy(images).to("cuda"))
        found: np.ndarray = logits.cpu().numpy()
        return found


class ResNet50(Predictor):
    def load(self) -> None:
        self.model = resnet50()

    def predict(self, inputs: Tensors) -> Tensors:  # a worker thread: the loop stays free
        return {"output-0": run(self.model, inputs["input-0"])}
