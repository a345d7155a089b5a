"""The work of `alfamix embed`, done by PyTorch, for a side-by-side figure on one machine.

    /usr/bin/python3 bench/torch_embed.py MODEL.onnx IMAGES_DIR [--size 224] [--batch 32] [--threads 2]
    /usr/bin/python3 bench/torch_embed.py MODEL.onnx CLIPS_DIR --video [--frames 8] [--size 224] [--workers 2]
    /usr/bin/python3 bench/torch_embed.py --export-resnet18 OUT.onnx

With --video, each clip's frames come from ffmpeg exactly as `alfamix embed --video` takes them
(ffprobe for the duration, the same select/scale/crop filter, raw RGB through a pipe), decoded in
DataLoader workers; the model runs on every frame and a clip's row is the mean of its frames.

The ONNX graph is run as a PyTorch module (each node mapped to its torch.nn.functional op, with the
same weights), so both sides compute the same network. Images are read with PIL, resized (shorter
side, bilinear) and centre-cropped as alfamix does, in a DataLoader with one worker process, and fed
in batches under torch.inference_mode. Prints images/s and the first rows' checksum.

--export-resnet18 writes torchvision's ResNet-18 (seeded random weights: no pretrained weights can be
downloaded here) without its classifier, so its output is the 512-d pooled feature, with a dynamic
batch dimension and a fixed input of --size pixels (default 32 for the export).
"""
import argparse
import os
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from PIL import Image


class OnnxModule(torch.nn.Module):
    """Runs the nodes of a (small, convolutional) ONNX graph with torch ops."""

    def __init__(self, path):
        super().__init__()
        model = onnx.load(path)
        self.graph = model.graph
        self.consts = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in self.graph.initializer}
        self.input = self.graph.input[0].name
        self.output = self.graph.output[0].name

    def forward(self, x):
        env = dict(self.consts)
        env[self.input] = x
        for node in self.graph.node:
            a = {at.name: onnx.helper.get_attribute_value(at) for at in node.attribute}
            i = [env[n] if n else None for n in node.input]
            op = node.op_type
            if op == "Conv":
                p = list(a.get("pads", [0, 0, 0, 0]))
                if p[0] != p[2] or p[1] != p[3]:
                    i[0] = F.pad(i[0], (p[1], p[3], p[0], p[2]))
                    p = [0, 0, 0, 0]
                y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, tuple(a.get("strides", [1, 1])), (p[0], p[1]), 1, a.get("group", 1))
            elif op == "BatchNormalization":
                y = F.batch_norm(i[0], i[3], i[4], i[1], i[2], False, 0.0, a.get("epsilon", 1e-5))
            elif op == "Clip":
                y = torch.clamp(i[0], float(i[1]), float(i[2]))
            elif op == "Relu":
                y = F.relu(i[0])
            elif op == "Identity":
                y = i[0]
            elif op == "Add":
                y = i[0] + i[1]
            elif op == "Pad":
                p = [int(v) for v in i[1]]
                n = len(p) // 2
                y = F.pad(i[0], tuple(v for d in reversed(range(n)) for v in (p[d], p[d + n])))
            elif op == "GlobalAveragePool":
                y = F.adaptive_avg_pool2d(i[0], 1)
            elif op == "Flatten":
                y = torch.flatten(i[0], a.get("axis", 1))
            elif op == "MaxPool":
                p = a.get("pads", [0, 0, 0, 0])
                y = F.max_pool2d(i[0], tuple(a["kernel_shape"]), tuple(a.get("strides", [1, 1])), (p[0], p[1]))
            elif op == "Gemm":
                y = F.linear(i[0], i[1] if a.get("transB", 0) else i[1].t(), i[2] if len(i) > 2 else None)
            else:
                raise SystemExit(f"torch_embed.py: ONNX op {op} is not mapped")
            env[node.output[0]] = y
        return env[self.output]


class Images(torch.utils.data.Dataset):
    def __init__(self, root, size):
        self.files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.lower().endswith((".jpg", ".jpeg", ".png")))
        self.size = size

    def __len__(self):
        return len(self.files)

    def __getitem__(self, k):
        im = Image.open(self.files[k]).convert("RGB")
        w, h = im.size
        s = max(self.size / h, self.size / w)
        rw, rh = max(self.size, round(w * s)), max(self.size, round(h * s))
        if (rw, rh) != (w, h):
            im = im.resize((rw, rh), Image.BILINEAR)
        left, top = (rw - self.size) // 2, (rh - self.size) // 2
        im = im.crop((left, top, left + self.size, top + self.size))
        return torch.from_numpy(np.asarray(im, dtype=np.float32).transpose(2, 0, 1) / 255.0)


VIDEO_EXTENSIONS = (".mp4", ".m4v", ".webm", ".mov", ".mkv", ".avi")


class Clips(torch.utils.data.Dataset):
    """The frames `alfamix embed --video` samples: the first frame at or after each of N evenly spaced times."""

    def __init__(self, root, size, frames):
        self.files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.lower().endswith(VIDEO_EXTENSIONS))
        self.size, self.frames = size, frames

    def __len__(self):
        return len(self.files)

    def __getitem__(self, k):
        import json
        import re
        import subprocess
        file, n, s = self.files[k], self.frames, self.size
        probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                           "stream=codec_type,start_time,duration:format=start_time,duration", "-of", "json", file],
                                          capture_output=True, check=True).stdout)
        stream = probe["streams"][0]
        num = lambda v: float(v) if v not in (None, "N/A") else float("nan")
        start = next(v for v in (num(stream.get("start_time")), num(probe["format"].get("start_time")), 0.0) if v == v)
        duration = num(stream.get("duration"))
        if not duration > 0:
            duration = num(probe["format"].get("duration"))
        per_second = n / duration
        part = lambda t: f"floor(({t}-{start})*{per_second}+1e-06)"
        vf = (f"select='eq(n,0)+gt({part('t')},{part('prev_selected_t')})',"
              f"scale={s}:{s}:force_original_aspect_ratio=increase:flags=bilinear,crop={s}:{s},showinfo")
        run = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "level+info", "-threads", "1", "-i", file,
                              "-an", "-sn", "-dn", "-vf", vf, "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
                             capture_output=True, check=True)
        log = run.stderr.decode()
        base = re.search(r"config in time_base: (\d+)/(\d+)", log)
        kept = [int(m) * int(base.group(1)) / int(base.group(2)) for m in re.findall(r"Parsed_showinfo.*\bn:\s*\d+\s+pts:\s*(-?\d+)", log)]
        pixels = np.frombuffer(run.stdout, dtype=np.uint8).reshape(len(kept), s, s, 3)
        slack = 1e-6 * duration / n
        slots = []
        for i in range(n):
            target = start + i * duration / n
            slots.append(next((j for j, t in enumerate(kept) if t >= target - slack), len(kept) - 1))
        return torch.from_numpy(pixels[slots].astype(np.float32).transpose(0, 3, 1, 2) / 255.0)


def export_resnet18(out, size):
    import torchvision
    torch.manual_seed(0)
    net = torchvision.models.resnet18()
    net.fc = torch.nn.Identity()
    net.eval()
    torch.onnx.export(net, torch.zeros(1, 3, size, size), out, input_names=["image"], output_names=["features"],
                      dynamic_axes={"image": {0: "batch"}, "features": {0: "batch"}}, opset_version=13)
    print(f"wrote {out}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?")
    ap.add_argument("images", nargs="?")
    ap.add_argument("--size", type=int)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--jit", action="store_true", help="trace and freeze the module (folds batch norm), PyTorch's fastest CPU inference here")
    ap.add_argument("--video", action="store_true", help="IMAGES is a folder of clips")
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--export-resnet18")
    args = ap.parse_args()
    if args.export_resnet18:
        return export_resnet18(args.export_resnet18, args.size or 32)
    args.size = args.size or 224
    torch.set_num_threads(args.threads)
    net = OnnxModule(args.model).eval()
    if args.jit:
        with torch.inference_mode():
            net = torch.jit.freeze(torch.jit.trace(net, torch.rand(args.batch, 3, args.size, args.size)))
    data = Clips(args.images, args.size, args.frames) if args.video else Images(args.images, args.size)
    if args.limit:
        data.files = data.files[: args.limit]
    # Clips: a batch holds --batch frames' worth of whole clips.
    per_batch = max(1, args.batch // args.frames) if args.video else args.batch
    loader = torch.utils.data.DataLoader(data, batch_size=per_batch, num_workers=args.workers)
    rows, first = 0, None
    start = time.perf_counter()
    with torch.inference_mode():
        for x in loader:
            if args.video:
                clips, frames = x.shape[:2]
                y = net(x.flatten(0, 1)).view(clips, frames, -1).mean(dim=1)
            else:
                y = net(x)
            if first is None:
                first = y[:4].sum().item()
            rows += y.shape[0]
    sec = time.perf_counter() - start
    noun = "clips" if args.video else "images"
    print(f"torch {torch.__version__}: {rows} {noun} in {sec:.1f} s, {rows / sec:.1f} {noun}/s (output {tuple(y.shape[1:])}, checksum {first:.4f})")


if __name__ == "__main__":
    sys.exit(main())
