"""Writes test/fixtures/conv3d-fixture.json: a clip's frames, a Conv3d's weights and what PyTorch
computes from them (Conv3d, ReLU, mean over time and space), for the 5-D ONNX path of
`embed --video`. Run with /usr/bin/python3 (Debian's python3-torch)."""
import json

import torch

torch.manual_seed(29)
T, H, W, C, OUT = 4, 6, 5, 3, 4
frames = torch.randint(0, 256, (T, H, W, C), dtype=torch.uint8)  # as ffmpeg writes rgb24
mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
conv = torch.nn.Conv3d(C, OUT, kernel_size=(2, 3, 3), padding=(0, 1, 1))
x = frames.float().div(255).permute(3, 0, 1, 2)  # C×T×H×W
x = (x - torch.tensor(mean).view(C, 1, 1, 1)) / torch.tensor(std).view(C, 1, 1, 1)
with torch.no_grad():
    y = torch.relu(conv(x.unsqueeze(0)))  # 1×OUT×(T-1)×H×W
    pooled = y.mean(dim=(2, 3, 4))[0]
json.dump(
    {
        "frames": T, "height": H, "width": W, "channels": C, "out": OUT,
        "pixels": frames.flatten().tolist(),
        "mean": mean, "std": std,
        "weight": conv.weight.detach().flatten().tolist(), "weightShape": list(conv.weight.shape),
        "bias": conv.bias.detach().tolist(),
        "expected": pooled.tolist(),
    },
    open("test/fixtures/conv3d-fixture.json", "w"),
)
print("wrote test/fixtures/conv3d-fixture.json", pooled.tolist())
