"""The authorization matrix: every route × every role × own vs foreign partner, against a
table written here by hand (not read from the code), and a leak check: no response to a
partner manager or a partner user names a partner they may not see, by id or by name.

A route added to the app without a line in ``GETS``/``POSTS`` fails
``test_every_route_is_in_the_matrix``: access is decided on purpose, never by default.
"""

from __future__ import annotations

import re

import pyarrow.parquet as pq
import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from partnerscope.accounts import Accounts
from partnerscope.workspace import Workspace
from tests.webtools import FOREIGN, OWN

pytestmark = pytest.mark.slow

#: Partners with an improvement plan: P0035 is Marco Rossi's (the manager's), P0004 is not.
PLAN_OWN, PLAN_FOREIGN = "P0035", "P0004"

ADMIN, ANALYST, MANAGER, PARTNER, FIN = "ada", "ana", "max", "pat", "fin"
EVERYONE = {ADMIN, ANALYST, MANAGER, PARTNER, FIN}
STAFF = {ADMIN, ANALYST, MANAGER}
ANALYSTS = {ADMIN, ANALYST}
FINANCE = {ADMIN, FIN}
#: who computes draft ledgers, and who submits MDF requests and claims
COMPUTERS = {ADMIN, ANALYST, FIN}
SUBMITTERS = {ADMIN, MANAGER, PARTNER}
#: who reads leads and registrations (not finance), and who decides registrations
OPERATIONS = {ADMIN, ANALYST, MANAGER, PARTNER}
DECIDERS = {ADMIN, MANAGER}

#: GET path → the users who may open it. Paths with {partner_id} are also scoped: a user who
#: may open the route but not see the partner gets 404, like for a partner that does not exist.
GETS: dict[str, set[str]] = {
    "/": EVERYONE,
    "/dashboard": STAFF,
    "/portal": {PARTNER},
    "/partners": STAFF,
    "/partners.csv": STAFF,
    "/partners/{partner_id}": EVERYONE,
    "/partners/{partner_id}/scorecard.pdf": EVERYONE,
    "/partners/{partner_id}/scorecard.xlsx": STAFF | {FIN},
    "/partners/{partner_id}/qbr.pdf": STAFF | {FIN},
    "/partners/{partner_id}/plan": STAFF,
    "/tiers": STAFF,
    "/alerts": STAFF,
    "/tasks": STAFF,
    "/predictions": STAFF | {FIN},
    "/decisions": ANALYSTS,
    "/decisions/new": ANALYSTS,
    "/decisions/{decision_id}": ANALYSTS,
    "/scenarios": ANALYSTS,
    "/runs": ANALYSTS,
    "/runs/{run_id}": ANALYSTS,
    "/quality": ANALYSTS,
    "/audit": {ADMIN},
    "/payouts": EVERYONE,
    "/payouts/{period}": EVERYONE,
    "/mdf": EVERYONE,
    "/mdf/requests/{request_id}": EVERYONE,
    "/leads": OPERATIONS,
    "/leads/{lead_id}": OPERATIONS,
    "/registrations": OPERATIONS,
    "/registrations/{registration_id}": OPERATIONS,
    "/market": STAFF,
    "/market.csv": STAFF,
    "/applications": STAFF,
    "/applications/{application_id}": STAFF,
    "/onboarding": OPERATIONS,
    "/onboarding/{partner_id}": OPERATIONS,
    "/enablement": OPERATIONS,
    "/enablement/{partner_id}": OPERATIONS,
    "/business-plans": OPERATIONS,
    "/business-plans/{partner_id}": OPERATIONS,
    "/api/v1/me": EVERYONE,
    "/api/v1/openapi.json": EVERYONE,
    "/api/v1/docs": EVERYONE,
    "/api/v1/dashboard": STAFF,
    "/api/v1/partners": STAFF,
    "/api/v1/partners/{partner_id}": EVERYONE,
    "/api/v1/partners/{partner_id}/plan": STAFF,
    "/api/v1/partners/{partner_id}/forecast": STAFF | {FIN},
    "/api/v1/partners/{partner_id}/risk": STAFF | {FIN},
    "/api/v1/partners/{partner_id}/deals": STAFF | {FIN},
    "/api/v1/predictions": STAFF | {FIN},
    "/api/v1/tiers": STAFF,
    "/api/v1/tiers/overrides": STAFF,
    "/api/v1/alerts": STAFF,
    "/api/v1/tasks": STAFF,
    "/api/v1/decisions": ANALYSTS,
    "/api/v1/decisions/{decision_id}": ANALYSTS,
    "/api/v1/decisions/{decision_id}/history": ANALYSTS,
    "/api/v1/scenarios": ANALYSTS,
    "/api/v1/runs": ANALYSTS,
    "/api/v1/runs/{run_id}": ANALYSTS,
    "/api/v1/quality": ANALYSTS,
    "/api/v1/audit": {ADMIN},
    "/api/v1/payouts": EVERYONE,
    "/api/v1/payouts/{period}": EVERYONE,
    "/api/v1/payouts/{period}/export": FINANCE,
    "/api/v1/mdf/requests": EVERYONE,
    "/api/v1/mdf/requests/{request_id}": EVERYONE,
    "/api/v1/mdf/budgets": EVERYONE,
    "/api/v1/leads": OPERATIONS,
    "/api/v1/leads/{lead_id}": OPERATIONS,
    "/api/v1/registrations": OPERATIONS,
    "/api/v1/registrations/{registration_id}": OPERATIONS,
    "/api/v1/market": STAFF,
    "/api/v1/applications": STAFF,
    "/api/v1/applications/{application_id}": STAFF,
    "/api/v1/onboarding": OPERATIONS,
    "/api/v1/onboarding/measures": STAFF,
    "/api/v1/onboarding/{partner_id}": OPERATIONS,
    "/api/v1/enablement": OPERATIONS,
    "/api/v1/enablement/expiring": OPERATIONS,
    "/api/v1/enablement/{partner_id}": OPERATIONS,
    "/api/v1/business-plans": OPERATIONS,
    "/api/v1/business-plans/{partner_id}": OPERATIONS,
    "/notifications": EVERYONE,
    "/settings/notifications": EVERYONE,
    "/admin/outbox": {ADMIN},
    "/api/v1/notifications": EVERYONE,
    "/api/v1/notifications/preferences": EVERYONE,
    "/api/v1/admin/outbox": {ADMIN},
    "/service": STAFF | {PARTNER},
    "/service.csv": STAFF,
    "/api/v1/service": STAFF | {PARTNER},
    "/retention": STAFF,
    "/api/v1/retention": STAFF,
    "/coverage": STAFF,
    "/api/v1/coverage": STAFF,
    "/compliance": STAFF | {PARTNER},
    "/compliance/{partner_id}": STAFF | {PARTNER},
    "/api/v1/compliance": STAFF | {PARTNER},
    "/api/v1/compliance/{partner_id}": STAFF | {PARTNER},
    "/awards": STAFF,
    "/api/v1/awards": STAFF,
    "/identity": ANALYSTS,
    "/api/v1/identity/review": ANALYSTS,
    "/api/v1/identity/check": ANALYSTS,
}
#: POST API path → the users who may call it (checked with API tokens: no CSRF involved).
POSTS: dict[str, set[str]] = {
    "/api/v1/decisions": ANALYSTS,
    "/api/v1/decisions/{decision_id}/evidence": ANALYSTS,
    "/api/v1/decisions/{decision_id}/compare": ANALYSTS,
    "/api/v1/decisions/{decision_id}/commit": ANALYSTS,
    "/api/v1/decisions/{decision_id}/reviews": ANALYSTS,
    "/api/v1/scenarios/run": ANALYSTS,
    "/api/v1/tiers/overrides": ANALYSTS,
    "/api/v1/tiers/overrides/{override_id}/remove": ANALYSTS,
    "/api/v1/partners/{partner_id}/plan": STAFF,
    "/api/v1/partners/{partner_id}/plan/close": STAFF,
    "/api/v1/payouts/{period}/compute": COMPUTERS,
    "/api/v1/payouts/{period}/approve": FINANCE,
    "/api/v1/payouts/{period}/pay": FINANCE,
    "/api/v1/mdf/requests": SUBMITTERS,
    "/api/v1/mdf/requests/{request_id}/approve": FINANCE,
    "/api/v1/mdf/requests/{request_id}/reject": FINANCE,
    "/api/v1/mdf/requests/{request_id}/claim": SUBMITTERS,
    "/api/v1/mdf/requests/{request_id}/pay": FINANCE,
    "/api/v1/leads/route": ANALYSTS,
    "/api/v1/leads/sla": ANALYSTS,
    "/api/v1/leads/{lead_id}/touch": SUBMITTERS,
    "/api/v1/leads/{lead_id}/decline": SUBMITTERS,
    "/api/v1/leads/{lead_id}/close": SUBMITTERS,
    "/api/v1/registrations": SUBMITTERS,
    "/api/v1/registrations/sweep": ANALYSTS,
    "/api/v1/registrations/{registration_id}/approve": DECIDERS,
    "/api/v1/registrations/{registration_id}/reject": DECIDERS,
    "/api/v1/registrations/{registration_id}/won": DECIDERS,
    "/api/v1/alerts/{alert_id}/acknowledge": STAFF,
    "/api/v1/alerts/{alert_id}/assign": STAFF,
    "/api/v1/alerts/{alert_id}/snooze": STAFF,
    "/api/v1/alerts/{alert_id}/resolve": STAFF,
    "/api/v1/alerts/{alert_id}/reopen": STAFF,
    "/api/v1/tasks/{task_id}/close": STAFF,
    "/api/v1/applications/invites": DECIDERS,
    "/api/v1/applications/{application_id}/owner": DECIDERS,
    "/api/v1/applications/{application_id}/scores": DECIDERS,
    "/api/v1/applications/{application_id}/approve": DECIDERS,
    "/api/v1/applications/{application_id}/reject": DECIDERS,
    "/api/v1/onboarding": DECIDERS,
    "/api/v1/onboarding/{partner_id}/tasks/{task}/complete": SUBMITTERS,
    "/api/v1/onboarding/{partner_id}/tasks/{task}/skip": DECIDERS,
    "/api/v1/business-plans": DECIDERS,
    "/api/v1/business-plans/{partner_id}/edit": DECIDERS,
    "/api/v1/business-plans/{partner_id}/milestones": DECIDERS,
    "/api/v1/business-plans/{partner_id}/milestones/remove": DECIDERS,
    "/api/v1/business-plans/{partner_id}/agree": DECIDERS,
    "/api/v1/notifications/preferences": EVERYONE,
    "/api/v1/notifications/read-all": EVERYONE,
    "/api/v1/notifications/{notification_id}/read": EVERYONE,
    "/api/v1/admin/outbox/retry": {ADMIN},
    "/api/v1/identity/review/{pair_id}": ANALYSTS,
}
#: Page forms (cookie sessions, CSRF-checked) → the users who may post them (as their API twin
#: above); /login and /logout are everyone's.
FORMS: dict[str, set[str]] = {
    "/login": EVERYONE,
    "/logout": EVERYONE,
    "/decisions/new": ANALYSTS,
    "/awards/{award}/decide": ANALYSTS,
    "/identity/{pair_id}/decide": ANALYSTS,
    "/decisions/{decision_id}/evidence": ANALYSTS,
    "/decisions/{decision_id}/compare": ANALYSTS,
    "/decisions/{decision_id}/commit": ANALYSTS,
    "/decisions/{decision_id}/reviews": ANALYSTS,
    "/scenarios/run": ANALYSTS,
    "/tiers/overrides": ANALYSTS,
    "/tiers/overrides/{override_id}/remove": ANALYSTS,
    "/partners/{partner_id}/plan": STAFF,
    "/partners/{partner_id}/plan/close": STAFF,
    "/payouts/compute": COMPUTERS,
    "/payouts/{period}/approve": FINANCE,
    "/payouts/{period}/pay": FINANCE,
    "/mdf/requests": SUBMITTERS,
    "/mdf/requests/{request_id}/approve": FINANCE,
    "/mdf/requests/{request_id}/reject": FINANCE,
    "/mdf/requests/{request_id}/claim": SUBMITTERS,
    "/mdf/requests/{request_id}/pay": FINANCE,
    "/leads/route": ANALYSTS,
    "/leads/sla": ANALYSTS,
    "/leads/{lead_id}/touch": SUBMITTERS,
    "/leads/{lead_id}/decline": SUBMITTERS,
    "/leads/{lead_id}/close": SUBMITTERS,
    "/registrations": SUBMITTERS,
    "/registrations/sweep": ANALYSTS,
    "/registrations/{registration_id}/approve": DECIDERS,
    "/registrations/{registration_id}/reject": DECIDERS,
    "/registrations/{registration_id}/won": DECIDERS,
    "/alerts/{alert_id}/acknowledge": STAFF,
    "/alerts/{alert_id}/assign": STAFF,
    "/alerts/{alert_id}/snooze": STAFF,
    "/alerts/{alert_id}/resolve": STAFF,
    "/alerts/{alert_id}/reopen": STAFF,
    "/tasks/{task_id}/close": STAFF,
    "/applications/invite": DECIDERS,
    "/applications/{application_id}/owner": DECIDERS,
    "/applications/{application_id}/scores": DECIDERS,
    "/applications/{application_id}/approve": DECIDERS,
    "/applications/{application_id}/reject": DECIDERS,
    "/onboarding": DECIDERS,
    "/onboarding/{partner_id}/tasks/{task}/complete": SUBMITTERS,
    "/onboarding/{partner_id}/tasks/{task}/skip": DECIDERS,
    "/business-plans": DECIDERS,
    "/business-plans/{partner_id}/edit": DECIDERS,
    "/business-plans/{partner_id}/milestones": DECIDERS,
    "/business-plans/{partner_id}/milestones/remove": DECIDERS,
    "/business-plans/{partner_id}/agree": DECIDERS,
    "/notifications/read-all": EVERYONE,
    "/notifications/{notification_id}/read": EVERYONE,
    "/settings/notifications": EVERYONE,
    "/admin/outbox/retry": {ADMIN},
}
PUBLIC = {"/login", "/static/report.css", "/api/v1/health", "/apply/sent"}
#: the application form of an invitation link: anyone may open and send it, with a valid token
INVITED = "/apply/{token}"
#: an email's unsubscribe link: anyone may open it and press its button, with a valid token
UNSUBSCRIBE = "/unsubscribe/{token}"
#: server-sent events of an open page (read here for one look: they stream otherwise)
STREAMS: dict[str, set[str]] = {"/events": EVERYONE}
#: pages under /api/v1: an anonymous visitor is sent to sign in (the API answers 401)
API_PAGES = {"/api/v1/docs"}


@pytest.fixture(scope="module")
def world(web_world):
    ws = Workspace.open(web_world.root)
    accounts = Accounts.open(ws)
    tokens = {u: accounts.issue_token(u, "matrix", by="test")[1] for u in EVERYONE}
    run = web_world.root / "state" / "runs" / "000001"
    members = pq.read_table(run / "memberships.parquet", columns=["partner_id", "name"])
    names = dict(zip(members["partner_id"].to_pylist(), members["name"].to_pylist(), strict=True))
    app = web_world.app()
    clients = {u: web_world.client(u, app=app) for u in EVERYONE}
    me = {u: clients[u].get("/api/v1/me").json() for u in EVERYONE}
    return {
        "app": app,
        "tokens": tokens,
        "clients": clients,
        "anonymous": web_world.client(app=app),
        "names": names,
        "visible": {u: set(me[u]["partners"] or names) for u in EVERYONE},
        "root": web_world.root,
        "approved": web_world.approved,
        "requests": web_world.requests,
        "leads": web_world.leads,
        "registrations": web_world.registrations,
    }


def routes(app) -> set[tuple[str, str]]:
    """Every (method, path) the app answers, included routers' routes too."""
    return {
        (method, route.path)
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute)
        for method in route.methods
        if method != "HEAD"
    }


def test_every_route_is_in_the_matrix(world):
    listed = {("GET", p) for p in GETS} | {("POST", p) for p in POSTS}
    listed |= {("POST", p) for p in FORMS} | {("GET", p) for p in PUBLIC}
    listed |= {("GET", INVITED), ("POST", INVITED)}
    listed |= {("GET", UNSUBSCRIBE), ("POST", UNSUBSCRIBE)} | {("GET", p) for p in STREAMS}
    found = routes(world["app"])
    assert len(found) > 100  # (the included routers' routes are reached)
    assert found - listed == set()


@pytest.mark.parametrize("path", sorted(PUBLIC))
def test_public_routes_answer_anyone(world, path):
    assert world["anonymous"].get(path).status_code == 200


def test_an_invitation_link_opens_for_anyone_only_with_its_token(world):
    from partnerscope.lifecycle import applications

    ws = Workspace.open(world["root"])
    token = applications.invite(ws, company="Anyco", email="a@anyco.example", by="ada").token
    assert world["anonymous"].get(INVITED.format(token=token)).status_code == 200
    unknown = world["anonymous"].get(INVITED.format(token="not-a-token"))
    assert unknown.status_code == 404
    assert not re.search(r"\bP\d{4}\b", unknown.text)


def test_an_unsubscribe_link_opens_for_anyone_only_with_its_token(world):
    from partnerscope.notify import unsubscribe

    ws = Workspace.open(world["root"])
    fin = Accounts.open(ws).get(FIN)
    token = unsubscribe.token(ws, fin.user_id, "payout")
    anonymous = world["anonymous"]
    assert anonymous.get(UNSUBSCRIBE.format(token=token)).status_code == 200
    for bad in (token[:-2], "not-a-token"):
        assert anonymous.get(UNSUBSCRIBE.format(token=bad)).status_code == 404
    # the button needs the form's own cookie: posted from elsewhere, it changes nothing
    assert anonymous.post(UNSUBSCRIBE.format(token=token), data={}).status_code == 403


@pytest.mark.parametrize("path", sorted(STREAMS))
def test_streams_answer_as_designed_for_every_role(world, path):
    for user in sorted(EVERYONE):
        answer = world["clients"][user].get(f"{path}?seconds=0")
        assert answer.status_code == (200 if user in STREAMS[path] else 403), user
        assert answer.headers["content-type"].startswith("text/event-stream")
    anonymous = world["anonymous"].get(path, follow_redirects=False)
    assert anonymous.status_code == 303


#: path parameters that name something of one partner (a foreign one is answered 404)
SCOPED = ("{partner_id}", "{request_id}", "{lead_id}", "{registration_id}")


def pair(path: str) -> tuple[str, ...]:
    """The partners a route is tried on: one the manager sees and one it does not."""
    if not any(p in path for p in SCOPED):
        return (OWN,)
    return (PLAN_OWN, PLAN_FOREIGN) if path.endswith(("/plan", "/close")) else (OWN, FOREIGN)


#: the query a route needs to answer at all (else 422)
QUERIES = {"/api/v1/identity/check": "?a=Acme&b=Acme%20Inc"}


def fill(world, path: str, partner: str) -> str:
    """The route's URL for ``partner`` (its MDF request for ``{request_id}``)."""
    return _filled(world, path, partner) + QUERIES.get(path, "")


def _filled(world, path: str, partner: str) -> str:
    return (
        path.replace("{partner_id}", partner)
        .replace("{request_id}", str(world["requests"].get(partner, 0)))
        .replace("{lead_id}", world["leads"].get(partner, "none"))
        .replace("{registration_id}", str(world["registrations"].get(partner, 0)))
        .replace("{period}", world["approved"])
        .replace("{decision_id}", "1")
        .replace("{run_id}", "1")
        .replace("{override_id}", "1")
        .replace("{application_id}", "4")  # the demo's application awaiting a decision
        .replace("{task}", "kickoff")
        .replace("{task_id}", "1")
        .replace("{notification_id}", "1")
        .replace("{award}", "growth")
        .replace("{pair_id}", "1")
    )


def expected(path: str, user: str, partner: str, visible: set[str]) -> int:
    if user not in GETS[path]:
        return 403
    if any(p in path for p in SCOPED) and partner not in visible:
        return 404
    # a partner user's business plans are its own plan's page
    if path == "/portal" or (path == "/business-plans" and user == PARTNER):
        return 303
    return 200


@pytest.mark.parametrize("path", sorted(GETS))
def test_get_answers_as_designed_for_every_role_and_partner(world, path):
    for partner in pair(path):
        url = fill(world, path, partner)
        for user in sorted(EVERYONE):
            answer = world["clients"][user].get(url, follow_redirects=False)
            want = expected(path, user, partner, world["visible"][user])
            assert answer.status_code == want, (user, url, answer.text[:300])
        anonymous = world["anonymous"].get(url, follow_redirects=False)
        if path.startswith("/api/") and path not in API_PAGES:
            assert anonymous.status_code == 401
        else:
            assert anonymous.status_code == 303
            assert anonymous.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("path", sorted(POSTS))
def test_post_is_refused_to_the_roles_not_allowed(world, path):
    for partner in pair(path):
        url = fill(world, path, partner)
        for user in sorted(EVERYONE):
            headers = {"Authorization": f"Bearer {world['tokens'][user]}"}
            answer = world["anonymous"].post(url, json={}, headers=headers)
            if user not in POSTS[path]:
                assert answer.status_code == 403, (user, url, answer.text)
            elif any(p in path for p in SCOPED) and partner not in world["visible"][user]:
                assert answer.status_code in (404, 422), (user, url, answer.text)
            else:
                assert answer.status_code not in (401, 403), (user, url, answer.text)
        assert world["anonymous"].post(url, json={}).status_code == 401


@pytest.fixture(scope="module")
def forms_world(web_world, tmp_path_factory):
    """A copy of the world for the form posts (an allowed post may change it), with a session
    of every user that sends its CSRF token."""
    from tests.webtools import csrf_of

    copy = web_world.copy(tmp_path_factory.mktemp("forms") / "demo")
    app = copy.app()
    clients = {}
    for user in EVERYONE:
        clients[user] = copy.client(user, app=app)
        clients[user].headers["X-CSRF-Token"] = csrf_of(clients[user], "/payouts")
    visible = {u: clients[u].get("/api/v1/me").json()["partners"] for u in EVERYONE}
    return {
        "world": copy,
        "app": app,
        "clients": clients,
        "anonymous": copy.client(app=app),
        #: None: every partner
        "visible": visible,
        "approved": copy.approved,
        "requests": copy.requests,
        "leads": copy.leads,
        "registrations": copy.registrations,
    }


@pytest.mark.parametrize("path", sorted(set(FORMS) - {"/login", "/logout"}))
def test_forms_answer_every_role_as_designed_and_never_fail(forms_world, path):
    """Every page form, posted by every role with its session's CSRF token and an empty form:
    a role that may not post it is refused (403), a partner it may not see is answered 404,
    and an allowed post is done or refused with a reason, never a server error; without
    signing in, the browser is sent to sign in."""
    for partner in pair(path):
        url = fill(forms_world, path, partner)
        for user in sorted(EVERYONE):
            answer = forms_world["clients"][user].post(url, data={}, follow_redirects=False)
            visible = forms_world["visible"][user]
            if user not in FORMS[path]:
                assert answer.status_code == 403, (user, url, answer.text[:300])
            elif any(p in path for p in SCOPED) and visible is not None and partner not in visible:
                assert answer.status_code == 404, (user, url, answer.text[:300])
            else:
                assert answer.status_code in (200, 201, 303, 400, 404, 413, 422), (
                    user,
                    url,
                    answer.status_code,
                    answer.text[:300],
                )
        anonymous = forms_world["anonymous"].post(url, data={}, follow_redirects=False)
        assert anonymous.status_code == 303
        assert anonymous.headers["location"].startswith("/login?next=")


def test_signing_out_is_a_form_of_every_role(forms_world):
    from tests.webtools import csrf_of

    for user in sorted(EVERYONE):
        client = forms_world["world"].client(user, app=forms_world["app"])
        client.headers["X-CSRF-Token"] = csrf_of(client, "/payouts")
        assert client.post("/logout", data={}, follow_redirects=False).status_code == 303
        assert client.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("user", [MANAGER, PARTNER])
def test_no_response_names_a_partner_the_user_may_not_see(world, user):
    visible = world["visible"][user]
    hidden = {pid: name for pid, name in world["names"].items() if pid not in visible}
    assert FOREIGN in hidden and OWN not in hidden
    client = world["clients"][user]
    queries = ["", "?q=" + FOREIGN, "?search=" + FOREIGN, "?partner=" + FOREIGN]
    for path in GETS:
        for partner in pair(path):
            for query in queries:
                url = fill(world, path, partner) + query
                body = client.get(url).text
                # what the user asked for may be echoed ("no partner 'P0002'", the search box)
                for asked in {partner, FOREIGN}:
                    for echo in (f"'{asked}'", f"&#39;{asked}&#39;", f'value="{asked}"'):
                        body = body.replace(echo, "")
                body = re.sub(r"(q|search|partner)=P\d{4}", "", body)
                for pid, name in hidden.items():
                    assert not re.search(rf"\b{pid}\b", body), (user, url, pid)
                    assert name not in body, (user, url, name)


@pytest.mark.parametrize(
    "kind, path",
    [
        ("requests", "/api/v1/mdf/requests/{}"),
        ("requests", "/mdf/requests/{}"),
        ("registrations", "/api/v1/registrations/{}"),
        ("registrations", "/registrations/{}"),
        ("leads", "/api/v1/leads/{}"),
        ("leads", "/leads/{}"),
    ],
)
def test_a_foreign_object_is_answered_like_a_missing_one(world, kind, path):
    """Another partner's MDF request, registration or lead, and one that does not exist, get
    the same status and the same words (the id asked aside), so ids cannot be probed."""
    foreign = str(world[kind][FOREIGN])
    missing = "NO-SUCH-LEAD" if kind == "leads" else "987654"
    for user in (PARTNER, MANAGER):
        client = world["clients"][user]
        one, other = client.get(path.format(foreign)), client.get(path.format(missing))
        assert one.status_code == other.status_code == 404, (user, one.text, other.text)
        assert one.text.replace(foreign, "ID") == other.text.replace(missing, "ID"), user


def test_a_partner_is_told_alike_of_a_draft_ledger_and_of_none(world):
    """A partner user is not shown draft ledgers, nor told which exist."""
    from partnerscope.money.payouts import Payouts

    ledgers = Payouts(Workspace.open(world["root"])).periods()
    draft = next(p.period for p in ledgers if p.status == "draft")
    client = world["clients"][PARTNER]
    for path in ("/api/v1/payouts/{}", "/payouts/{}"):
        one, other = client.get(path.format(draft)), client.get(path.format("FY1999-Q1"))
        assert one.status_code == other.status_code == 404
        assert one.text.replace(draft, "Q") == other.text.replace("FY1999-Q1", "Q")
