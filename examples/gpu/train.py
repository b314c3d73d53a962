"""A PyTorch objective for hpsearch: one trial, on the GPU hpsearch gives it (cuda:0 under
CUDA_VISIBLE_DEVICES), else the CPU. Prints a JSON line per epoch and the metric last."""

import json
import os
import sys

import torch

lr = float(sys.argv[sys.argv.index("--lr") + 1])
torch.manual_seed(int(os.environ["HPSEARCH_SEED"]))
device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")  # its own GPU
model = torch.nn.Linear(10, 1).to(device)
opt = torch.optim.SGD(model.parameters(), lr=lr)
for epoch in range(20):
    x = torch.randn(256, 10, device=device)
    loss = ((model(x) - x.sum(1, keepdim=True)) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(json.dumps({"epoch": epoch, "loss": loss.item()}), flush=True)  # the curve
print(json.dumps({"loss": loss.item()}))  # the metric
