"""A tiny transformer encoder in PyTorch, exported to ONNX, with the sentence embeddings
sentence-transformers would compute from it: the fixture for test/text-encoder.test.ts.

    /usr/bin/python3 bench/torch_text_encoder_fixture.py test/fixtures/text-encoder

Writes DIR/model.onnx (inputs input_ids and attention_mask, output last_hidden_state) and
DIR/expected.json: for each token-id sequence, the mean of last_hidden_state over its tokens,
L2-normalised, each computed alone (no padding), so that a batched, padded run must use the
attention mask to match.
"""
import json
import math
import os
import sys

import torch
from torch import nn

torch.manual_seed(0)
VOCAB, DIM, HEADS, POSITIONS = 12, 16, 2, 32


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(DIM, 3 * DIM)
        self.out = nn.Linear(DIM, DIM)
        self.norm1 = nn.LayerNorm(DIM)
        self.ff = nn.Sequential(nn.Linear(DIM, 4 * DIM), nn.GELU(), nn.Linear(4 * DIM, DIM))
        self.norm2 = nn.LayerNorm(DIM)

    def forward(self, x, mask):
        n, t, _ = x.shape
        q, k, v = self.qkv(x).view(n, t, 3, HEADS, DIM // HEADS).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2) / math.sqrt(DIM // HEADS)
        # As BERT: padded keys get a large negative score.
        scores = scores + (1.0 - mask[:, None, None, :].float()) * -10000.0
        attended = (scores.softmax(-1) @ v).transpose(1, 2).reshape(n, t, DIM)
        x = self.norm1(x + self.out(attended))
        return self.norm2(x + self.ff(x))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.tokens = nn.Embedding(VOCAB, DIM)
        self.positions = nn.Embedding(POSITIONS, DIM)
        self.layers = nn.ModuleList([Layer(), Layer()])

    def forward(self, input_ids, attention_mask):
        positions = torch.arange(input_ids.shape[1]).unsqueeze(0)
        x = self.tokens(input_ids) + self.positions(positions)
        for layer in self.layers:
            x = layer(x, attention_mask)
        return x


def sentence_embedding(model, ids):
    with torch.no_grad():
        hidden = model(torch.tensor([ids]), torch.ones(1, len(ids), dtype=torch.long))[0]
    row = hidden.mean(0)
    return (row / row.norm()).tolist()


def main(out):
    os.makedirs(out, exist_ok=True)
    model = Encoder().eval()
    example = (torch.tensor([[2, 4, 5, 3]]), torch.ones(1, 4, dtype=torch.long))
    torch.onnx.export(
        model,
        example,
        os.path.join(out, "model.onnx"),
        input_names=["input_ids", "attention_mask"],
        output_names=["last_hidden_state"],
        dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"}, "last_hidden_state": {0: "batch", 1: "sequence"}},
        opset_version=13,
    )
    sequences = [[2, 1, 6, 3], [2, 4, 5, 10, 7, 8, 11, 3], [2, 4, 5, 6, 3], [2, 7, 9, 3]]
    expected = {"torch": torch.__version__, "sequences": sequences, "rows": [sentence_embedding(model, s) for s in sequences]}
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
