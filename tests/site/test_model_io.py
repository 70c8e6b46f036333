"""A model's inputs and outputs in words (both formats, real and hostile RDFs) and its test pictures."""

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from collection_compiler.adapters import yamlio
from collection_compiler.site import model, previews, wording
from collection_compiler.site.tensors import tensors

REAL = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "real-rdfs" / "rdfs"
if not REAL.is_dir():
    REAL = Path("/work/shared/fixtures/real-rdfs/rdfs")


def _real(rid: str, vid: str) -> dict:
    path = REAL / rid / vid / "rdf.yaml"
    if not path.is_file():
        pytest.skip(f"fixture {path} not present")
    return yamlio.normalise(yamlio.load_mapping(path.read_bytes(), str(path)))


def _axes(tensor) -> dict[str, str]:
    return {a.name: a.size for a in tensor.axes}


def test_a_real_04_model_in_words():
    rdf = _real("10.5281/zenodo.6346511", "7701413")  # 3D UNet, format 0.4.9
    (raw,), (out,) = tensors(rdf, "inputs"), tensors(rdf, "outputs")
    assert raw.id == "raw" and raw.data == "float32"  # data_range [-inf, inf] says nothing
    assert _axes(raw) == {"batch": "1", "channel": "1", "z": "100", "y": "128", "x": "128"}
    assert out.data == "float32, values 0 to 1"
    assert _axes(out)["z"] == "same as raw's z; 8 px border cropped"
    assert _axes(out)["x"] == "same as raw's x; 16 px border cropped"


def test_05_sizes_data_and_steps_in_words():
    axes = [{"type": "batch", "size": 1}, {"type": "time", "size": {"min": 4, "step": 2}, "unit": "second"},
            {"type": "channel", "channel_names": [f"c{n}" for n in range(10)]},
            {"type": "space", "id": "y", "size": 256}]
    steps = [{"id": "fixed_zero_mean_unit_variance", "kwargs": {"mean": 3.5, "std": 2}},
             {"id": "clip", "kwargs": {"min": 0, "max": 1.5}}, {"id": "mystery", "kwargs": {"k": [1, 2]}}]
    out_axes = [{"type": "index", "size": {"min": 1, "max": 500}},
                {"type": "space", "id": "y", "size": {"tensor_id": "img", "axis_id": "y", "offset": -4}}]
    rdf = {"inputs": [{"id": "img", "axes": axes, "data": [{"type": "uint8"}] * 10, "preprocessing": steps}],
           "outputs": [{"id": "labels", "axes": out_axes, "data": {"type": "uint16", "values": ["background", "cell"]},
                        "postprocessing": [{"id": "binarize", "kwargs": {"threshold": 0.5}}]}]}
    (img,), (labels,) = tensors(rdf, "inputs"), tensors(rdf, "outputs")
    assert _axes(img) == {"batch": "1", "time (second)": "at least 4, in steps of 2",
                          "channel (c0, c1, c2, c3, c4, c5, c6, c7, …)": "10", "y": "256"}
    assert img.data == "uint8, described per channel"
    assert [s.what for s in img.steps] == ["subtract 3.5 and divide by 2", "clip values to 0 … 1.5", "mystery"]
    assert img.steps[2].parameters == "k: [1, 2]"
    assert _axes(labels) == {"index": "depends on the data (1 to 500)", "y": "same as img's y − 4"}
    assert labels.data == "uint16, one of: background, cell"
    assert labels.steps[0].what == "turn into 0 or 1 at threshold 0.5"


@pytest.mark.parametrize("hostile", [
    {"inputs": "bcyx"}, {"inputs": [None, 3, "x"]}, {"inputs": [{"axes": 5, "data": "float"}]},
    {"inputs": [{"axes": "bcyx", "shape": {"min": "a", "step": None}, "halo": "x"}]},
    {"inputs": [{"axes": [{"type": "channel", "channel_names": "abc"}, None, {"size": {"tensor_id": []}}]}]},
    {"inputs": [{"axes": "b" * 100, "shape": {"reference_tensor": {}, "scale": 1, "offset": "x"}}]},
    {"inputs": [{"axes": "yx", "preprocessing": [{"name": "scale_range", "kwargs": {"axes": {"a": 1}}}, "oops"]}]},
])
def test_hostile_tensors_give_words_not_errors(hostile):
    for tensor in tensors(hostile, "inputs"):
        assert isinstance(tensor.id, str) and len(tensor.axes) <= 8
        assert all(isinstance(a.size, str) for a in tensor.axes)


def test_test_tensors_of_both_formats_and_their_axes():
    v04 = {"type": "model", "inputs": [{"name": "raw", "axes": "bczyx"}],
           "outputs": [{"name": "out", "axes": "bcyx"}], "test_inputs": ["https://z.org/in.npy"],
           "test_outputs": ["javascript:alert(1)"]}
    v05 = {"type": "model", "inputs": [{"id": "raw", "test_tensor": {"source": "https://z.org/a.npy"}, "axes": [
        {"type": "batch"}, {"type": "channel"}, {"type": "space", "id": "z"}, {"type": "space", "id": "y"},
        {"type": "space", "id": "x"}, {"type": "time"}]}], "outputs": [{"id": "o", "axes": []}]}
    assert model.model_test_tensors(v04) == [{"side": "inputs", "id": "raw", "url": "https://z.org/in.npy",
                                              "axes": "bczyx"}]  # the unsafe URL is left out
    assert model.model_test_tensors(v05) == [{"side": "inputs", "id": "raw", "url": "https://z.org/a.npy",
                                              "axes": "bczyxt"}]


def _npy(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, array, allow_pickle=True)
    return out.getvalue()


@pytest.mark.parametrize("data", [
    b"not numpy", _npy(np.array([{"a": 1}], dtype=object)), _npy(np.array(["text"])),
    _npy(np.zeros((0, 5))), _npy(np.zeros((1,) * 9)), _npy(np.zeros(10, dtype=complex)),
])
def test_unusable_test_tensors_are_refused(data):
    with pytest.raises(previews.PreviewError):
        previews.read_array(data)


def test_a_huge_array_is_refused_from_its_header(monkeypatch):
    monkeypatch.setattr(previews, "MAX_ELEMENTS", 1000)
    with pytest.raises(previews.PreviewError):
        previews.read_array(_npy(np.zeros((40, 40), np.uint8)))


def test_the_picture_is_the_middle_z_slice_stretched_and_three_channels_make_rgb():
    volume = np.zeros((1, 3, 9, 20, 30), np.float32)
    volume[0, 0, 4, 5:10, 5:10] = 1000  # red, in the middle slice only
    volume[0, 2, 0] = 5  # blue, in the first slice only
    png, width, height = previews.render_png(volume, "bczyx")
    image = Image.open(io.BytesIO(png))
    assert image.mode == "RGB" and (width, height) == image.size == (30, 20)
    assert image.getpixel((7, 7)) == (255, 0, 0) and image.getpixel((20, 15)) == (0, 0, 0)


def test_without_axes_the_last_two_dimensions_are_the_image_and_nans_do_not_break_it():
    array = np.arange(2 * 40 * 600, dtype=np.float64).reshape(2, 40, 600)
    array[0, 0, 0] = np.nan
    png, width, height = previews.render_png(array, "")
    assert width <= 2 * previews.SIZE and width > 2 * height  # two channels side by side
    assert Image.open(io.BytesIO(png)).mode == "L"


@pytest.mark.parametrize(("tester", "tool", "version", "words"), [
    ("bioimageio.core", "bioimageio.core", "0.9.6", "Tested by the hub (bioimageio.core 0.9.6)"),
    ("ilastik", "ilastik", "1.4.1", "Tested in ilastik 1.4.1"),
    ("ilastik", "", "", "Tested in ilastik"),
    ("ilastik", "test-onnx", "0.1.0", "Tested in ilastik (with test-onnx 0.1.0)"),
    ("unknown", "unknown", "2", "Tested in unknown 2"),
])
def test_test_rows_in_words(tester, tool, version, words):
    assert wording.tested_row(tester, tool, version, {"ilastik": "ilastik"}) == words


@pytest.mark.parametrize("allowed, fetched", [("", False), ("127.0.0.1", True)])
def test_a_test_tensor_on_a_private_address_is_not_fetched_unless_allowed(tmp_path: Path, serve, allowed: str,
                                                                         fetched: bool) -> None:
    from collection_compiler.adapters.http import HttpClient
    from collection_compiler.settings import Settings

    (tmp_path / "served").mkdir()
    (tmp_path / "served" / "input.npy").write_bytes(_npy(np.zeros((1, 1, 16, 16), np.float32)))
    server = serve(tmp_path / "served")
    settings = Settings(http_retries=0, allowed_hosts=allowed)
    with HttpClient(settings) as client:
        picture = previews._fetch(client, f"{server.url}/input.npy", "bcyx", tmp_path, settings)
    assert (picture is not None) == fetched
    assert server.hits.get("/input.npy", 0) == int(fetched)  # refused before any request
