"""Write the small PyTorch fixtures the conv-layer tests compare against (run once; the output is
committed, so the tests need no Python):

    /usr/bin/python3 bench/torch_conv_fixtures.py test/fixtures/conv-fixtures.json

For a Conv2d (stride 2, padding 1, bias), a BatchNorm2d in training mode, and one torchvision
BasicBlock with a downsampling shortcut (training mode): the weights, an input, the output, and the
gradients of sum(output * G) for a fixed G with respect to the input and every parameter, plus the
batch norm's running statistics after the pass. Arrays are flat, in PyTorch's (row-major) order.
"""
import json, sys
import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock

torch.manual_seed(0)
flat = lambda t: [round(float(v), 7) for v in t.detach().reshape(-1)]
out = {"torch": torch.__version__}


def case(name, module, x):
    x = x.clone().requires_grad_(True)
    y = module(x)
    g = torch.randn_like(y)
    (y * g).sum().backward()
    entry = {"input_shape": list(x.shape), "input": flat(x), "output_shape": list(y.shape), "output": flat(y), "G": flat(g), "grad_input": flat(x.grad),
             "params": {n: flat(p) for n, p in module.named_parameters()}, "grads": {n: flat(p.grad) for n, p in module.named_parameters()},
             "buffers": {n: flat(b) for n, b in module.named_buffers() if not n.endswith("num_batches_tracked")}}
    out[name] = entry


case("conv", nn.Conv2d(3, 4, 3, stride=2, padding=1, bias=True), torch.randn(2, 3, 7, 6))
bn = nn.BatchNorm2d(3)
with torch.no_grad():
    bn.weight.uniform_(0.5, 1.5)
    bn.bias.uniform_(-0.5, 0.5)
case("batchnorm", bn.train(), torch.randn(4, 3, 5, 5) * 2 + 1)
block = BasicBlock(4, 6, stride=2, downsample=nn.Sequential(nn.Conv2d(4, 6, 1, stride=2, bias=False), nn.BatchNorm2d(6)))
with torch.no_grad():
    for m in block.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.5, 0.5)
case("block", block.train(), torch.randn(2, 4, 8, 8))
with open(sys.argv[1], "w") as f:
    json.dump(out, f)
print(f"wrote {sys.argv[1]}")
