"""The PyTorch side of `alfamix bench cnn`: the same conv net (cnn, or resnet18 with the cifar or
imagenet stem) on 5,000 random 3×32×32 images with 10 classes, Adam 1e-3, batch 64; seconds per
training epoch (median of epochs 2..E), an eval-mode forward pass (softmax) over 50,000 images,
and peak RSS. Two intra-op threads, as the machine has two cores. Prints one JSON line.
With fewer forward images than 50,000, the forward time is scaled to 50,000, as `bench cnn --forward`.
usage: /usr/bin/python3 bench/torch_cnn.py [cnn|resnet18] [epochs] [cifar|imagenet] [forward images]"""
import json, resource, statistics, sys, time
import torch, torch.nn as nn, torchvision

kind = sys.argv[1] if len(sys.argv) > 1 else "cnn"
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
stem = sys.argv[3] if len(sys.argv) > 3 else "cifar"
forward = int(sys.argv[4]) if len(sys.argv) > 4 else 50000
torch.set_num_threads(2)
torch.manual_seed(0)

def cnn():
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 8 * 8, 256), nn.ReLU(), nn.Linear(256, 10))

def resnet18():
    net = torchvision.models.resnet18(num_classes=256)  # the fc layer is Linear(512→256), the embedding
    if stem == "cifar":
        net.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        net.maxpool = nn.Identity()
    return nn.Sequential(net, nn.Linear(256, 10))

model = cnn() if kind == "cnn" else resnet18()
X = torch.randn(5000, 3, 32, 32)
y = torch.randint(0, 10, (5000,))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
lossf = nn.CrossEntropyLoss()
times = []
model.train()
for _ in range(epochs):
    perm = torch.randperm(5000)
    t0 = time.perf_counter()
    for s in range(0, 5000, 64):
        idx = perm[s:s + 64]
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(X[idx]), y[idx]); loss.backward(); opt.step()
    times.append(time.perf_counter() - t0)
    print(f"epoch {len(times)}/{epochs}: {times[-1]:.2f} s", file=sys.stderr)
P = torch.randn(forward, 3, 32, 32)
model.eval()
with torch.no_grad():
    t0 = time.perf_counter()
    for s in range(0, forward, 256):
        model(P[s:s + 256]).softmax(1)
    fwd = (time.perf_counter() - t0) * 50000 / forward
print(json.dumps({"impl": f"pytorch {torch.__version__}", "model": kind, "stem": stem, "secPerEpoch": round(statistics.median(times[1:]), 3),
                  "forward50kSec": round(fwd, 3), "forwardImages": forward, "peakRssMB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
