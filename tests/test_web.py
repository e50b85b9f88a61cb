"""The web app's foundation: signing in, sessions, CSRF, API tokens, throttled sign-in, the
audit log, security headers and the partner page against the run's own files."""

from __future__ import annotations

import re

import pytest

from tests.webtools import FOREIGN, OWN, PASSWORD, login_token, sign_in

pytestmark = pytest.mark.slow


def test_partner_user_sees_its_own_scorecard_and_no_other(web_world):
    client = web_world.client("pat")
    page = client.get("/portal")
    assert page.status_code == 200 and str(page.url).endswith(f"/partners/{OWN}")
    assert f'data-partner="{OWN}"' in page.text or OWN in page.text
    assert client.get(f"/partners/{FOREIGN}").status_code == 404
    assert client.get(f"/api/v1/partners/{FOREIGN}").status_code == 404
    assert client.get("/api/v1/partners/P9999").status_code == 404
