"""schemathesis against the OpenAPI document: every operation, with generated parameters and
bodies, as an admin (everything is reachable) and as a partner user (most is refused): no 5xx,
and every response matches the document.

The fuzzer writes (decisions, overrides, plans), so it runs on its own copy of the test world.
(schemathesis's pytest plugin does not run under this pytest, so each operation's strategy is
driven by hypothesis directly.)
"""

from __future__ import annotations

import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from partnerscope.accounts import Accounts
from partnerscope.workspace import Workspace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fuzzed(web_world, tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz") / "ws"
    shutil.copytree(web_world.root, root, ignore=shutil.ignore_patterns("reports"))
    world = type(web_world)(root)
    accounts = Accounts.open(Workspace.open(root))
    tokens = {name: accounts.issue_token(name, "fuzz", by="test")[1] for name in ("ada", "pat")}
    app = world.app()
    # the document is for signed-in users only: loaded with the admin's token
    schema = schemathesis.openapi.from_asgi(
        "/api/v1/openapi.json", app, headers={"Authorization": f"Bearer {tokens['ada']}"}
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    return operations, tokens


def fuzz(operation, token: str, examples: int, validate: bool) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        if validate:
            # a schema-valid body can still name a partner, tier or decision that does not
            # exist: refusing it with 400/404/422 and a reason is right, so that check is off
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
        else:
            response = case.call(headers=headers)
            assert response.status_code < 500, (case.method, case.formatted_path, response.text)

    check()


def test_the_document_lists_the_api(fuzzed):
    operations, _ = fuzzed
    paths = {(op.method.upper(), op.path) for op in operations}
    assert ("GET", "/api/v1/partners/{partner_id}") in paths
    assert ("GET", "/api/v1/me") in paths


def test_admin_gets_no_server_error_and_schema_conforming_answers(fuzzed):
    operations, tokens = fuzzed
    for operation in operations:
        fuzz(operation, tokens["ada"], 15, validate=True)


def test_partner_user_gets_no_server_error(fuzzed):
    operations, tokens = fuzzed
    for operation in operations:
        fuzz(operation, tokens["pat"], 5, validate=False)
