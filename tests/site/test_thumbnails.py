import io
from pathlib import Path

import pytest
from PIL import Image

from collection_compiler.site.thumbnails import CoverError, build_thumbnails, make_thumbnail


def test_thumbnail_keeps_jpeg_and_turns_other_formats_into_png(make_image):
    data, ext = make_thumbnail(make_image("JPEG", (2000, 1000)))
    assert ext == "jpg" and Image.open(io.BytesIO(data)).format == "JPEG"
    assert max(Image.open(io.BytesIO(data)).size) <= 640
    for fmt in ("PNG", "GIF", "BMP", "TIFF"):
        data, ext = make_thumbnail(make_image(fmt))
        assert ext == "png" and Image.open(io.BytesIO(data)).format == "PNG"


@pytest.mark.parametrize("data", [b"<svg xmlns='http://www.w3.org/2000/svg'><script>x</script></svg>",
                                  b"not an image", b""])
def test_unusable_covers_are_refused(data):
    with pytest.raises(CoverError):
        make_thumbnail(data)


def test_decompression_bomb_is_refused():
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, "PNG")  # 400 Mpx in a few kB
    with pytest.raises(CoverError):
        make_thumbnail(out.getvalue())


def test_covers_are_fetched_named_by_real_format_and_reused(tmp_path: Path, assets, settings):
    urls = [f"{assets.url}/cover-0.png", f"{assets.url}/cover-1.png", f"{assets.url}/broken.png",
            f"{assets.url}/missing.png"]
    first = tmp_path / "first"
    found = build_thumbnails(urls, first, None, settings)
    assert set(found) == set(urls[:2])  # broken and missing fall back to the placeholder
    assert found[urls[0]].endswith(".png") and found[urls[1]].endswith(".jpg")  # cover-1.png is really JPEG
    assert (first / found[urls[1]]).read_bytes()[:3] == b"\xff\xd8\xff"
    hits = dict(assets.hits)
    second = tmp_path / "second"
    again = build_thumbnails(urls, second, first, settings)
    assert again == found and (second / found[urls[0]]).is_file()
    assert all(assets.hits[p] == hits[p] for p in ("/cover-0.png", "/cover-1.png"))  # reused, not re-downloaded
    assert assets.hits["/broken.png"] == 2  # failures are retried on the next run


def test_oversized_cover_is_not_downloaded_whole(tmp_path: Path, assets, settings):
    small = settings.with_overrides(max_cover_bytes=1000)
    assert build_thumbnails([f"{assets.url}/cover-0.png"], tmp_path, None, small) == {}
