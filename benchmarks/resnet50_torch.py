"""ResNet50 written by hand in PyTorch, the baseline of benchmarks/torch_forward.py.

Written as a person writes it (torchvision's layout: a Bottleneck class, in-place ReLU, names
reused along the forward pass) with the arithmetic of keras.applications.ResNet50, which
examples/resnet50.ns describes: convolutions with a bias, the stride on the first 1x1
convolution of a block, batch-norm epsilon 1.001e-5, a 3x3 max pool after a 1-pixel zero pad.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

EPSILON = 1.001e-5


class Bottleneck(nn.Module):
    def __init__(self, in_channels: int, filters: int, stride: int = 1) -> None:
        super().__init__()
        out_channels = 4 * filters
        self.conv1 = nn.Conv2d(in_channels, filters, 1, stride=stride)
        self.bn1 = nn.BatchNorm2d(filters, eps=EPSILON)
        self.conv2 = nn.Conv2d(filters, filters, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(filters, eps=EPSILON)
        self.conv3 = nn.Conv2d(filters, out_channels, 1)
        self.bn3 = nn.BatchNorm2d(out_channels, eps=EPSILON)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride),
                nn.BatchNorm2d(out_channels, eps=EPSILON),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += identity
        return self.relu(out)


class ResNet50(nn.Module):
    def __init__(self, classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3)
        self.bn1 = nn.BatchNorm2d(64, eps=EPSILON)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        stages, in_channels = [], 64
        for filters, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            layers = [Bottleneck(in_channels, filters, stride)]
            layers += [Bottleneck(4 * filters, filters) for _ in range(blocks - 1)]
            stages.append(nn.Sequential(*layers))
            in_channels = 4 * filters
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.fc = nn.Linear(2048, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return torch.softmax(self.fc(x), dim=1)
