"""Write model_cuda_weights/Miniproject_2/bestmodel.pth as if saved from CUDA tensors, on any machine.

torch.save records each storage's device through `torch.serialization.location_tag`; tagging every
storage "cuda:0" gives the file a CUDA-trained model would have. Loading it without `map_location` on a
machine without CUDA raises "Attempting to deserialize object on a CUDA device ...".
"""

from pathlib import Path
from unittest import mock

import torch
from torch.nn import Conv2d

net = Conv2d(3, 3, 3, padding=1)
with mock.patch("torch.serialization.location_tag", lambda storage: "cuda:0"):
    torch.save(net.state_dict(), Path(__file__).parent / "Miniproject_2" / "bestmodel.pth")
