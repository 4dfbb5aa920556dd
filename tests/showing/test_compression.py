"""Large answers go compressed to a client that accepts it (Flask-Compress), small ones and
clients that do not ask stay plain; the content is the same either way."""
from __future__ import annotations

import gzip

import brotli
import pytest


@pytest.mark.parametrize("path", ["/open311/v2/services.json", "/vendor/leaflet/leaflet.js", "/openapi.json"])
@pytest.mark.parametrize("encoding, decode", [("gzip", gzip.decompress), ("br", brotli.decompress)])
def test_a_large_answer_is_compressed_for_a_client_that_accepts_it(shared_client, path, encoding, decode):
    plain = shared_client.get(path)
    packed = shared_client.get(path, headers={"Accept-Encoding": encoding})
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers and packed.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert decode(packed.get_data()) == plain.get_data() and len(packed.get_data()) < len(plain.get_data()) / 2


def test_a_small_answer_stays_plain(shared_client):
    resp = shared_client.get("/healthz", headers={"Accept-Encoding": "gzip, br"})
    assert resp.status_code == 200 and "Content-Encoding" not in resp.headers
