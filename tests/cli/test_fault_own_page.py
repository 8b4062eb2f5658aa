"""Fault corpus, your own page from the command line: `prepare data --add-page` given a
folder, a file that is not a web page (by its name or by its bytes, whatever its name
says), or something that is not a file at all. Each ends with one message that names
what was given and says what to add instead, a non-zero exit status, no traceback,
and the workspace's dataset untouched."""

from __future__ import annotations

import json
import zlib

import pytest
from click.testing import CliRunner

from tui.cli import cli

PNG = (b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00\x00\x00\x01" * 2
       + b"\x08\x02\x00\x00\x00" + zlib.compress(b"\x00\xff\x00\x00"))
# A PDF's top is text with "<<" in it: it looks like markup to a quick glance.
PDF = (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
       b"3 0 obj\n<< /Length 44 >>\nstream\nBT /F1 24 Tf 100 700 Td (The capital of France "
       b"is Paris.) Tj ET\nendstream\nendobj\n") * 8
TEXT = b"The capital of France is Paris. It is also its largest city.\n" * 20
JSON = json.dumps({"title": "Paris", "html": "<p>The capital of France is Paris.</p>"}).encode()

# name: (bytes, what the message says the file is)
NOT_PAGES = {
    "photo.png": (PNG, ".png file (image)"),
    "paper.pdf": (PDF, ".pdf file (document)"),
    "notes.txt": (TEXT, "a .txt file with no HTML tags"),
    "data.json": (JSON, ".json file"),
    "photo-named.html": (PNG, "a PNG image"),  # the bytes say what it is, not the name
    "paper-named.html": (PDF, "a PDF document"),
    "notes-named.html": (TEXT, "no HTML tags"),
    "nameless": (PNG, "a PNG image"),
}


def add_page(workspace, source: str):
    return CliRunner().invoke(cli, ["--workdir", str(workspace.root), "prepare", "data",
                                    "--add-page", source])


def assert_refused(workspace, result, source: str, *says: str) -> None:
    output = result.output
    assert result.exit_code == 1, output
    assert isinstance(result.exception, SystemExit), result.exception  # not a crash
    assert "Traceback" not in output and output.startswith("Error: "), output
    assert source in output, output  # the message names what was given
    for words in says:
        assert words in output, output
    assert not workspace.path("dataset").exists()  # nothing was added


@pytest.mark.parametrize("name", list(NOT_PAGES))
def test_fault_own_page_that_is_not_a_web_page_is_named_with_what_to_add(workspace, tmp_path,
                                                                         name):
    data, what = NOT_PAGES[name]
    path = tmp_path / name
    path.write_bytes(data)
    assert_refused(workspace, add_page(workspace, str(path)), str(path), what,
                   "not an HTML page", "Add a web page saved as .html")


@pytest.mark.parametrize("trailing", ["", "/"], ids=["folder", "folder-slash"])
def test_fault_own_page_that_is_a_folder_says_to_name_a_file_inside(workspace, tmp_path,
                                                                    trailing):
    folder = tmp_path / "saved pages"
    folder.mkdir()
    (folder / "index.html").write_text("<html><body><p>Paris</p></body></html>")
    source = f"{folder}{trailing}"
    assert_refused(workspace, add_page(workspace, source), source, "is a folder",
                   "Name one HTML file inside it", str(folder / "index.html"))


def test_fault_own_page_that_is_a_device_says_to_name_a_file_on_disk(workspace):
    assert_refused(workspace, add_page(workspace, "/dev/null"), "/dev/null",
                   "not a regular file", "Name an HTML file saved on disk")


def test_fault_own_page_that_is_missing_says_where_it_looked(workspace, tmp_path):
    source = str(tmp_path / "no-such-page.html")
    assert_refused(workspace, add_page(workspace, source), source, "There is no file",
                   "Check the path")
