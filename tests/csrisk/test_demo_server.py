"""The demo server's links in e-mail and chat follow the address it serves on."""

from __future__ import annotations

import pytest

from csrisk.management.commands.demo_server import demo_base_url


@pytest.mark.parametrize(
    ("addrport", "base"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("127.0.0.1:8010", "http://127.0.0.1:8010"),
        ("8031", "http://127.0.0.1:8031"),
        ("0.0.0.0:9000", "http://127.0.0.1:9000"),
        ("csrisk.local:8080", "http://csrisk.local:8080"),
    ],
)
def test_it_links_to_the_address_it_serves_on(monkeypatch, addrport, base):
    monkeypatch.delenv("CSRISK_BASE_URL", raising=False)
    assert demo_base_url(addrport) == base


def test_a_configured_base_url_wins(monkeypatch):
    monkeypatch.setenv("CSRISK_BASE_URL", "https://csrisk.example.com")
    assert demo_base_url("127.0.0.1:8010") == ""
