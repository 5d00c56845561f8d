"""Write attack_pickle_protocol_0/Miniproject_2/bestmodel.pth: a protocol-0 pickle holding torch.nn.functional.relu.

Protocol 0 writes text opcodes and no PROTO byte (`ctorch.nn.functional\nrelu\n`); torch.load reads it
like any other. No tensor: protocol 0 writes a storage's id as a string, which torch.load refuses.
Deterministic: the same bytes on every run.
"""

from pathlib import Path

import torch

weights = {"activation": torch.nn.functional.relu, "scale": 1.0}
torch.save(weights, Path(__file__).parent / "Miniproject_2" / "bestmodel.pth", pickle_protocol=0)
