#!/usr/bin/env python3
"""Build ``models/resnet_mini.onnx``, the sample ResNet-style image classifier.

Run from the repository root:

    /usr/bin/python3 models/build_resnet.py

Requirements: Debian's python3-torch, python3-torchvision and python3-onnx (torch is the
realistic exporter for vision models; ``build.py`` writes its graphs by hand instead).

The network is ResNet-18's topology (a 7x7 stem with max pooling, then four stages of two
basic blocks, global average pooling and a linear classifier) at a quarter of its width
(16-32-64-128 channels instead of 64-128-256-512), so the file stays under 5 MB. The weights
are untrained: torchvision's ResNet initialisation (Kaiming-normal convolutions, batch norms
at 1/0) drawn from ``torch.manual_seed(SEED)``, and the batch norms are folded into the
convolutions by the exporter (eval mode). The output is reproducible: running the script
twice produces byte-identical files.
"""

from __future__ import annotations

import json
import os

import numpy as np
import onnx
import torch
from torch import nn
from torchvision.models.resnet import BasicBlock, ResNet

MODELS_DIR = os.path.dirname(os.path.abspath(__file__))
FILENAME = "resnet_mini.onnx"
SEED = 20261203
OPSET = 13
# A quarter of ResNet-18's widths (64, 128, 256, 512).
WIDTHS = (16, 32, 64, 128)
BLOCKS = (2, 2, 2, 2)
CLASSES = 10
IMAGE_SIZE = 64
CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


class ResNetMini(ResNet):
    """torchvision's ResNet with the stage widths of ``WIDTHS`` instead of 64-128-256-512."""

    def __init__(self) -> None:
        super().__init__(BasicBlock, list(BLOCKS), num_classes=CLASSES)
        # Rebuild the layers at the smaller widths with torchvision's own helpers and initialisation.
        self.inplanes = WIDTHS[0]
        self.conv1 = nn.Conv2d(3, WIDTHS[0], kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(WIDTHS[0])
        self.layer1 = self._make_layer(BasicBlock, WIDTHS[0], BLOCKS[0])
        self.layer2 = self._make_layer(BasicBlock, WIDTHS[1], BLOCKS[1], stride=2)
        self.layer3 = self._make_layer(BasicBlock, WIDTHS[2], BLOCKS[2], stride=2)
        self.layer4 = self._make_layer(BasicBlock, WIDTHS[3], BLOCKS[3], stride=2)
        self.fc = nn.Linear(WIDTHS[3], CLASSES)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)


def example_images(batch: int) -> torch.Tensor:
    """Deterministic example input: a smooth pattern, value (c + 1) * sin((h + w) / 10) / 3."""
    c = torch.arange(3, dtype=torch.float32).view(3, 1, 1)
    h = torch.arange(IMAGE_SIZE, dtype=torch.float32).view(1, IMAGE_SIZE, 1)
    w = torch.arange(IMAGE_SIZE, dtype=torch.float32).view(1, 1, IMAGE_SIZE)
    image = (c + 1) * torch.sin((h + w) / 10) / 3
    return image.unsqueeze(0).repeat(batch, 1, 1, 1)


def main() -> None:
    torch.manual_seed(SEED)
    model = ResNetMini().eval()
    parameters = sum(p.numel() for p in model.parameters())
    print(f"{FILENAME}: {parameters:,} parameters")
    path = os.path.join(MODELS_DIR, FILENAME)
    with torch.no_grad():
        reference = model(example_images(2)).numpy()
        torch.onnx.export(
            model,
            example_images(1),
            path,
            input_names=["image"],
            output_names=["logits"],
            dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=OPSET,
            do_constant_folding=True,
        )
    exported = onnx.load(path)
    exported.producer_name = "serverless-ai-platform models/build_resnet.py"
    exported.producer_version = "1"
    exported.doc_string = (
        f"ResNet-18 topology at quarter width ({'-'.join(map(str, WIDTHS))} channels), FP32 image "
        f"[batch,3,{IMAGE_SIZE},{IMAGE_SIZE}] in, {CLASSES} class logits out. Untrained, fixed random weights."
    )
    metadata = {
        "task": "classification",
        "class_names": json.dumps(CLASS_NAMES),
        "framework": f"torch {torch.__version__}",
        "training_data": "none: untrained, fixed random weights (torchvision ResNet initialisation)",
        "weights": f"torch.manual_seed({SEED})",
        "purpose": "sample GPU-style (SageMaker) model",
    }
    del exported.metadata_props[:]
    for key in sorted(metadata):
        entry = exported.metadata_props.add()
        entry.key = key
        entry.value = metadata[key]
    onnx.checker.check_model(exported, full_check=True)
    with open(path, "wb") as f:
        f.write(exported.SerializeToString(deterministic=True))
    print(f"  wrote {os.path.relpath(path)} ({os.path.getsize(path):,} bytes)")
    print(f"  reference logits for the example image: {np.array2string(reference[0], precision=4)}")


if __name__ == "__main__":
    main()
