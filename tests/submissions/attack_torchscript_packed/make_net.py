"""Write attack_torchscript_packed/Miniproject_2/others/net.gz: attack_torchscript_weights's TorchScript
archive, gzipped (mtime 0: the same bytes on every run), so that no file of the package is a zip or a
pickle and rules.static's file scan finds nothing."""

import gzip
from pathlib import Path

here = Path(__file__).parent
archive = (here.parent / "attack_torchscript_weights" / "Miniproject_2" / "bestmodel.pth").read_bytes()
(here / "Miniproject_2" / "others" / "net.gz").write_bytes(gzip.compress(archive, mtime=0))
