"""Regenerate the bundled demo data (tiny real models, covers, RDFs) under scripts/collection_compiler/demo/data.

Needs torch, onnx and onnxscript (the test extra). The output is committed, so `collection demo` runs with the
core install only. Usage: python tools/make_demo_data.py
"""

from __future__ import annotations

import hashlib
import io
import textwrap
from pathlib import Path

import numpy as np
import torch
from PIL import Image

DEMO = Path(__file__).resolve().parents[1] / "scripts" / "collection_compiler" / "demo" / "data"
ARCHITECTURE = textwrap.dedent('''
    import torch


    class TinyNet(torch.nn.Module):
        """One 3x3 convolution and a sigmoid: a real model small enough to ship."""

        def __init__(self, channels: int = 1):
            super().__init__()
            self.conv = torch.nn.Conv2d(channels, channels, 3, padding=1)

        def forward(self, x):
            return torch.sigmoid(self.conv(x))
''').lstrip()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def cover(seed: int) -> bytes:
    """Fluorescent 'nuclei' (Gaussian blobs) on a dark background, and their predicted outline, side by side."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:200, 0:200]
    image = np.zeros((200, 200))
    for _ in range(22):
        cy, cx, r = rng.uniform(20, 180), rng.uniform(20, 180), rng.uniform(5, 9)
        image += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r**2))
    image = np.clip(image / image.max(), 0, 1)
    mask = (image > 0.2).astype(float)
    left = np.stack([image * 0.2, image * 0.9, image * 0.4], axis=-1)
    right = np.stack([mask * 0.9, mask * 0.3, mask * 0.8], axis=-1)
    pixels = (np.concatenate([left, right], axis=1) * 255).astype("uint8")
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def model_files(seed: int) -> dict[str, bytes]:
    namespace: dict = {}
    exec(ARCHITECTURE, namespace)  # noqa: S102 - our own architecture source, to build the weights
    torch.manual_seed(seed)
    net = namespace["TinyNet"]().eval()
    rng = np.random.default_rng(seed)
    test_input = rng.normal(10, 3, (1, 1, 64, 64)).astype("float32")
    normalised = (test_input - test_input.mean()) / (test_input.std() + 1e-6)
    with torch.no_grad():
        test_output = net(torch.from_numpy(normalised)).numpy().astype("float32")
    state = io.BytesIO()
    torch.save(net.state_dict(), state)
    traced = io.BytesIO()
    torch.jit.save(torch.jit.trace(net, torch.from_numpy(normalised)), traced)
    onnx_path = DEMO / "tmp.onnx"
    torch.onnx.export(net, (torch.from_numpy(normalised),), str(onnx_path), opset_version=17, dynamo=False,
                      input_names=["raw"], output_names=["probability"])
    onnx_bytes = onnx_path.read_bytes()
    onnx_path.unlink()
    return {"tiny_net.py": ARCHITECTURE.encode(), "weights.pt": state.getvalue(), "weights_torchscript.pt":
            traced.getvalue(), "weights.onnx": onnx_bytes, "test_input.npy": npy(test_input),
            "test_output.npy": npy(test_output), "cover.png": cover(seed)}


def metadata(name: str, version: str) -> str:
    """The fields both formats share, after `format_version`."""
    return textwrap.dedent(f"""\
        type: model
        name: {name}
        description: A tiny real model for the offline demo; one convolution and a sigmoid.
        authors:
          - name: Demo Author
            affiliation: BioImage Model Zoo
        cite:
          - text: "Demo citation"
            doi: 10.5281/zenodo.1000001
        maintainers:
          - github_user: demo-maintainer
        documentation: README.md
        covers: [cover.png]
        license: MIT
        version: {version}
        tags: [2d, fluorescence-light-microscopy, nuclei, semantic-segmentation, pytorch, unet]
        timestamp: "2024-01-0{version[0]}T10:00:00"
        """)


def derived_weights(files: dict[str, bytes]) -> str:
    """The TorchScript and ONNX entries of `weights`, the same in both formats."""
    return textwrap.indent(textwrap.dedent(f"""\
        torchscript:
          source: weights_torchscript.pt
          sha256: {sha256(files["weights_torchscript.pt"])}
          parent: pytorch_state_dict
          pytorch_version: "2.13"
        onnx:
          source: weights.onnx
          sha256: {sha256(files["weights.onnx"])}
          parent: pytorch_state_dict
          opset_version: 17
        """), "  ")


def model_rdf(name: str, files: dict[str, bytes], version: str) -> str:
    return "format_version: 0.4.10\n" + metadata(name, version) + textwrap.dedent(f"""\
        inputs:
          - name: raw
            axes: bcyx
            data_type: float32
            shape: [1, 1, 64, 64]
            preprocessing:
              - name: zero_mean_unit_variance
                kwargs: {{mode: per_sample, axes: xy, eps: 1.0e-6}}
        outputs:
          - name: probability
            axes: bcyx
            data_type: float32
            shape: {{reference_tensor: raw, scale: [1, 1, 1, 1], offset: [0, 0, 0, 0]}}
        test_inputs: [test_input.npy]
        test_outputs: [test_output.npy]
        weights:
          pytorch_state_dict:
            source: weights.pt
            sha256: {sha256(files["weights.pt"])}
            architecture: tiny_net.py:TinyNet
            architecture_sha256: {sha256(files["tiny_net.py"])}
            kwargs: {{channels: 1}}
            pytorch_version: "2.13"
        """) + derived_weights(files)


def model_rdf_v05(name: str, files: dict[str, bytes], version: str) -> str:
    """The same model in format 0.5, the format nearly every upload has used since 2024."""
    return "format_version: 0.5.4\n" + metadata(name, version) + textwrap.dedent(f"""\
        inputs:
          - id: raw
            axes:
              - {{type: batch, size: 1}}  # the ONNX export has a fixed batch size
              - {{type: channel, channel_names: [nuclei]}}
              - {{type: space, id: y, size: 64}}
              - {{type: space, id: x, size: 64}}
            test_tensor: {{source: test_input.npy, sha256: {sha256(files["test_input.npy"])}}}
            data: {{type: float32}}
            preprocessing:
              - id: zero_mean_unit_variance
                kwargs: {{axes: [y, x], eps: 1.0e-6}}
        outputs:
          - id: probability
            axes:
              - {{type: batch, size: 1}}  # the ONNX export has a fixed batch size
              - {{type: channel, channel_names: [probability]}}
              - {{type: space, id: y, size: {{tensor_id: raw, axis_id: y}}}}
              - {{type: space, id: x, size: {{tensor_id: raw, axis_id: x}}}}
            test_tensor: {{source: test_output.npy, sha256: {sha256(files["test_output.npy"])}}}
            data: {{type: float32, range: [0.0, 1.0]}}
        weights:
          pytorch_state_dict:
            source: weights.pt
            sha256: {sha256(files["weights.pt"])}
            architecture:
              source: tiny_net.py
              callable: TinyNet
              sha256: {sha256(files["tiny_net.py"])}
              kwargs: {{channels: 1}}
            pytorch_version: "2.13"
        """) + derived_weights(files)


README = b"# Tiny demo model\n\nA convolution and a sigmoid.\n\n# Validation\n\nReproduces its test outputs.\n"


def main() -> None:
    for seed, version in ((1, "1.0.0"), (2, "2.0.0")):
        folder = DEMO / "models" / f"tiny-v{seed}"
        folder.mkdir(parents=True, exist_ok=True)
        files = model_files(seed)
        for name, data in files.items():
            (folder / name).write_bytes(data)
        (folder / "README.md").write_bytes(README)
        # version 1 in format 0.4, version 2 (the newest) in today's format 0.5
        make_rdf = model_rdf if seed == 1 else model_rdf_v05
        (folder / "rdf.yaml").write_text(make_rdf("Tiny Nuclei Segmenter", files, version))
    print("demo data written to", DEMO)


if __name__ == "__main__":
    main()
