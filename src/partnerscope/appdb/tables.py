"""The tables of the transactional database (SQLAlchemy Core). Migrations create them; a test
checks that the migrations and these definitions agree."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

#: One row per decision: its current record (a JSON document) and the columns lists filter on.
decisions = Table(
    "decisions",
    metadata,
    Column("decision_id", Integer, primary_key=True, autoincrement=False),
    Column("title", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("owner", Text),
    Column("version", Integer, nullable=False),
    Column("record", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

#: Every change to a decision: who, when, what (field paths with old and new values), and the
#: whole record as it stood after the change.
decision_history = Table(
    "decision_history",
    metadata,
    Column("decision_id", ForeignKey("decisions.decision_id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("action", String(16), nullable=False),
    Column("changed_by", Text, nullable=False),
    Column("changed_at", DateTime, nullable=False),
    Column("changes", JSON, nullable=False),
    Column("record", JSON, nullable=False),
)

#: What each run found on the committed decisions: fired signals and reviews due.
decision_alerts = Table(
    "decision_alerts",
    metadata,
    Column("run_id", Integer, primary_key=True),
    Column("alert_id", String(64), primary_key=True),
    Column("decision_id", ForeignKey("decisions.decision_id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("due_on", Date),
    Column("first_run", Integer, nullable=False),
    Index("ix_decision_alerts_decision", "decision_id"),
)

#: People who sign in to the web app or call its API. ``partner_id`` is a partner user's own
#: partner; ``manages`` is the ``partner_manager`` value (in the partners data) of the partners
#: a partner manager looks after, besides those listed in ``user_partners``.
users = Table(
    "users",
    metadata,
    Column("user_id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("partner_id", String(64)),
    Column("manages", Text),
    Column("password_hash", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("created_by", Text, nullable=False),
    #: where notifications by email go (none: in-app only)
    Column("email", Text),
)

#: Partners assigned to a partner manager by id.
user_partners = Table(
    "user_partners",
    metadata,
    Column("user_id", ForeignKey("users.user_id", ondelete="CASCADE"), primary_key=True),
    Column("partner_id", String(64), primary_key=True),
)

#: Signed-in browsers: the SHA-256 of the cookie's secret, never the secret itself.
sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", ForeignKey("users.user_id", ondelete="CASCADE"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Index("ix_sessions_user", "user_id"),
)

#: API tokens, stored as their SHA-256; a revoked token keeps its row (and its audit trail).
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.user_id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("label", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
    UniqueConstraint("token_hash", name="uq_api_tokens_hash"),
)

#: Failed sign-ins, counted per name and per client address to slow password guessing.
login_failures = Table(
    "login_failures",
    metadata,
    Column("failure_id", Integer, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("client", String(64), nullable=False),
    Column("at", DateTime, nullable=False),
    Index("ix_login_failures_name", "name", "at"),
    Index("ix_login_failures_client", "client", "at"),
)

#: Append-only: who changed what (decisions, tier overrides, plans, users, tokens). Triggers
#: refuse UPDATE and DELETE on this table.
audit_log = Table(
    "audit_log",
    metadata,
    Column("entry_id", Integer, primary_key=True),
    Column("at", DateTime, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", String(32), nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("object_id", Text, nullable=False),
    Column("detail", JSON, nullable=False),
    Index("ix_audit_log_object", "object_type", "object_id"),
)

#: A person's decision to hold a partner at a tier other than the computed one, with a reason,
#: until a date or until removed.
tier_overrides = Table(
    "tier_overrides",
    metadata,
    Column("override_id", Integer, primary_key=True),
    Column("partner_id", String(64), nullable=False),
    Column("ruleset", String(64), nullable=False),
    Column("tier", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("until", Date),
    Column("created_at", DateTime, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("removed_at", DateTime),
    Column("removed_by", Text),
    Index("ix_tier_overrides_partner", "partner_id"),
)

# ------------------------------------------------------------------------------------- money
# Amounts are decimal text ("1234.50"): exact on every database, read back as Decimal.

#: A payout period's ledger and where it stands: draft (recomputed freely), approved (locked:
#: later changes become adjustment lines of a later period), paid. Triggers refuse to change,
#: add or delete the lines of a period that is not a draft.
payout_periods = Table(
    "payout_periods",
    metadata,
    Column("period", String(32), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("run_id", Integer, nullable=False),
    Column("computed_at", DateTime, nullable=False),
    Column("computed_by", Text, nullable=False),
    Column("approved_at", DateTime),
    Column("approved_by", Text),
    Column("paid_at", DateTime),
    Column("paid_by", Text),
    Column("payment_ref", Text),
)

#: One line of a payout ledger, explained: the rule, its base, rate or quantity, the inputs read,
#: the period it was earned in (an adjustment line corrects an earlier, locked period) and run.
payout_lines = Table(
    "payout_lines",
    metadata,
    Column("line_id", Integer, primary_key=True),
    Column("period", String(32), ForeignKey("payout_periods.period"), nullable=False),
    Column("partner_id", String(64), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("earned_in", String(32), nullable=False),
    Column("base", String(32)),
    Column("rate", String(32)),
    Column("quantity", Integer),
    Column("amount", String(32), nullable=False),
    Column("explanation", Text, nullable=False),
    Column("inputs", JSON, nullable=False),
    Column("run_id", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Index("ix_payout_lines_period", "period", "partner_id"),
)

#: A partner's MDF budget for a fiscal year when it differs from its tier's default.
mdf_budgets = Table(
    "mdf_budgets",
    metadata,
    Column("fiscal_year", String(16), primary_key=True),
    Column("partner_id", String(64), primary_key=True),
    Column("amount", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("set_by", Text, nullable=False),
    Column("set_at", DateTime, nullable=False),
)

#: An MDF request through its workflow: requested → approved (or rejected, with a reason) →
#: claimed (with a proof reference, by the deadline) → paid.
mdf_requests = Table(
    "mdf_requests",
    metadata,
    Column("request_id", Integer, primary_key=True),
    Column("partner_id", String(64), nullable=False),
    Column("fiscal_year", String(16), nullable=False),
    Column("activity_type", String(32), nullable=False),
    Column("name", Text, nullable=False),
    Column("requested_amount", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("submitted_by", Text, nullable=False),
    Column("submitted_at", DateTime, nullable=False),
    Column("approved_amount", String(32)),
    Column("deadline", Date),
    Column("decided_by", Text),
    Column("decided_at", DateTime),
    Column("reason", Text),
    Column("claimed_amount", String(32)),
    Column("proof_ref", Text),
    Column("claimed_by", Text),
    Column("claimed_at", DateTime),
    Column("paid_amount", String(32)),
    Column("paid_by", Text),
    Column("paid_at", DateTime),
    Index("ix_mdf_requests_partner", "partner_id", "fiscal_year"),
)

# ---------------------------------------------------------------------------- registrations

#: A partner's deal registration through its workflow: submitted → protected (approved, until
#: ``protected_until``) or rejected (with a reason) → won or expired. ``account_key`` is the
#: normalized account name and ``domain`` the normalized domain conflicts are matched on.
deal_registrations = Table(
    "deal_registrations",
    metadata,
    Column("registration_id", Integer, primary_key=True),
    Column("partner_id", String(64), nullable=False),
    Column("account_name", Text, nullable=False),
    Column("account_key", Text, nullable=False),
    Column("domain", String(253)),
    Column("country", String(64)),
    Column("amount", String(32), nullable=False),
    Column("expected_close", Date, nullable=False),
    Column("products", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("submitted_by", Text, nullable=False),
    Column("submitted_at", DateTime, nullable=False),
    Column("decided_by", Text),
    Column("decided_at", DateTime),
    Column("reason", Text),
    Column("protected_until", Date),
    Column("closed_by", Text),
    Column("closed_at", DateTime),
    Column("crm_opportunity_id", Text),
    Index("ix_deal_registrations_partner", "partner_id", "status"),
    Index("ix_deal_registrations_status", "status"),
)

#: What a registration conflicted with when it was submitted: another partner's live
#: registration (``kind`` registration, ``other_id`` its id) or a direct opportunity of the
#: warehouse (``kind`` opportunity), matched on the domain or the name with its similarity.
deal_registration_conflicts = Table(
    "deal_registration_conflicts",
    metadata,
    Column(
        "registration_id",
        ForeignKey("deal_registrations.registration_id"),
        primary_key=True,
    ),
    Column("kind", String(16), primary_key=True),
    Column("other_id", String(64), primary_key=True),
    Column("other_partner_id", String(64)),
    Column("other_name", Text, nullable=False),
    Column("matched_on", String(16), nullable=False),
    Column("score", Float, nullable=False),
    Index("ix_deal_registration_conflicts_other", "kind", "other_id"),
)

# ------------------------------------------------------------------------------ lead routing

#: One row per routing of a lead: attempt 1 is the first assignment, each re-route after a
#: breach or decline is the next attempt. ``partner_id`` is empty for the self-service
#: ``queue``. Status: assigned → touched → converted or closed; assigned or touched →
#: declined; assigned → breached (not first-touched by ``sla_due_at``); queued. ``eligible``
#: holds the eligible partner ids kept, their count and the partners excluded per reason.
#: The lead's own fields are kept to re-route it and to write it as a canonical lead row.
lead_assignments = Table(
    "lead_assignments",
    metadata,
    Column("assignment_id", Integer, primary_key=True),
    Column("lead_id", String(128), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("partner_id", String(64)),
    Column("queue", String(64)),
    Column("status", String(16), nullable=False),
    Column("band", String(16), nullable=False),
    Column("rule", String(64), nullable=False),
    #: why this partner, in full (staff); ``partner_reason``: what the partner itself is told
    Column("reason", Text, nullable=False),
    Column("partner_reason", Text),
    #: the partner whose decline or SLA breach sent the lead on, and which of the two
    Column("rerouted_from", String(64)),
    Column("rerouted_after", String(16)),
    Column("eligible", JSON, nullable=False),
    Column("distance_km", Float),
    Column("assigned_at", DateTime, nullable=False),
    Column("sla_due_at", DateTime),
    Column("first_touch_at", DateTime),
    Column("closed_at", DateTime),
    Column("closed_reason", Text),
    Column("updated_at", DateTime, nullable=False),
    Column("routed_by", Text, nullable=False),
    Column("value", Float),
    Column("estimated_value", String(32)),
    Column("currency", String(3)),
    Column("country", String(64)),
    Column("region", String(64)),
    Column("product", Text),
    Column("source", Text),
    Column("latitude", Float),
    Column("longitude", Float),
    UniqueConstraint("lead_id", "attempt", name="uq_lead_assignments_attempt"),
    Index("ix_lead_assignments_partner", "partner_id", "status"),
    Index("ix_lead_assignments_due", "status", "sla_due_at"),
)

#: Where each round-robin pool's rotation stands: the partner it gave its last lead to.
routing_cursors = Table(
    "routing_cursors",
    metadata,
    Column("pool", String(255), primary_key=True),
    Column("partner_id", String(64), nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

#: Alerts people work: an alert's state (open → acknowledged → resolved, with a note), owner
#: (a user name) and snooze date, keyed by its stable id (partner, kind, metric, period: the
#: same in every run), so a new run of the period keeps it. No row: open, unassigned, awake.
alert_states = Table(
    "alert_states",
    metadata,
    Column("alert_id", String(64), primary_key=True),
    Column("partner_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("metric", String(64), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("owner", String(64)),
    Column("snoozed_until", Date),
    Column("note", Text),
    Column("updated_at", DateTime, nullable=False),
    Column("updated_by", Text, nullable=False),
    Index("ix_alert_states_partner", "partner_id"),
    Index("ix_alert_states_owner", "owner"),
)

# --------------------------------------------------------------------------------- lifecycle

#: An invitation to apply: a link ``/apply/<token>`` a prospective partner opens without an
#: account. Only the token's SHA-256 is stored; the link works until ``expires_at`` and for one
#: application (``application_id`` once used).
application_invites = Table(
    "application_invites",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("company", Text),
    Column("email", Text),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("application_id", Integer),
)

#: A prospective partner's application: submitted → approved (with the initial program tier,
#: becoming partner ``partner_id``) or rejected (with a reason). ``source``: form, import or
#: cli. ``details``: the rest of what the applicant told (JSON object, e.g. employees,
#: certifications held, references given).
applications = Table(
    "applications",
    metadata,
    Column("application_id", Integer, primary_key=True),
    Column("company", Text, nullable=False),
    Column("contact_name", Text, nullable=False),
    Column("contact_email", Text, nullable=False),
    Column("website", Text),
    Column("country", String(64)),
    Column("region", String(64)),
    Column("vertical", String(128)),
    Column("partner_type", String(32)),
    Column("description", Text),
    Column("details", JSON, nullable=False),
    Column("source", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    #: the staff member who owns the assessment (required before a decision)
    Column("owner", Text),
    Column("submitted_at", DateTime, nullable=False),
    Column("submitted_by", Text, nullable=False),
    Column("decided_at", DateTime),
    Column("decided_by", Text),
    Column("reason", Text),
    Column("program_tier", String(64)),
    Column("partner_id", String(64)),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_applications_status", "status"),
    UniqueConstraint("partner_id", name="uq_applications_partner"),
)

#: One criterion of an application's assessment (capability, market fit, ...): a score with
#: the evidence it rests on and who gave it. Internal: never shown to a partner.
application_scores = Table(
    "application_scores",
    metadata,
    Column("application_id", ForeignKey("applications.application_id"), primary_key=True),
    Column("criterion", String(64), primary_key=True),
    Column("score", Float, nullable=False),
    Column("evidence", Text, nullable=False),
    Column("scored_by", Text, nullable=False),
    Column("scored_at", DateTime, nullable=False),
)

#: A partner's onboarding: started on ``started_on`` (week 1 begins that day) from the
#: template of the configuration at the time (``template``: its hash).
onboarding_plans = Table(
    "onboarding_plans",
    metadata,
    Column("partner_id", String(64), primary_key=True),
    Column("started_on", Date, nullable=False),
    Column("template", String(64), nullable=False),
    Column("application_id", Integer),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

#: One task of a partner's onboarding plan, copied from the template when the plan starts:
#: its phase, owner, due date and the outcome that closes it. Status: open → done (with the
#: evidence, by a person or by the data: ``closed_by_data``) or skipped (with a reason).
onboarding_tasks = Table(
    "onboarding_tasks",
    metadata,
    Column("partner_id", ForeignKey("onboarding_plans.partner_id"), primary_key=True),
    Column("task", String(64), primary_key=True),
    Column("phase", String(64), nullable=False),
    Column("title", Text, nullable=False),
    Column("owner", Text, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("outcome", Text),
    Column("requires", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("evidence", Text),
    Column("closed_by_data", Boolean, nullable=False, default=False),
    Column("completed_at", DateTime),
    Column("completed_by", Text),
    Index("ix_onboarding_tasks_due", "status", "due_on"),
)

#: A joint business plan: one per partner and fiscal year, at its current ``version``. The
#: markets, products, each side's commitments and the co-investment are a JSON document
#: (``content``); the milestones are rows of ``business_plan_milestones``.
business_plans = Table(
    "business_plans",
    metadata,
    Column("plan_id", Integer, primary_key=True),
    Column("partner_id", String(64), nullable=False),
    Column("fiscal_year", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("content", JSON, nullable=False),
    Column("vendor_owner", Text),
    Column("partner_owner", Text),
    Column("updated_at", DateTime, nullable=False),
    Column("updated_by", Text, nullable=False),
    UniqueConstraint("partner_id", "fiscal_year", name="uq_business_plans_partner_year"),
)

#: A plan's quarterly milestone: a measure (a catalog metric of the partner, e.g. revenue,
#: pipeline created, certified people, MDF activities, new customers) and its target for a
#: fiscal quarter (1–4 of the plan's year), with its owner.
business_plan_milestones = Table(
    "business_plan_milestones",
    metadata,
    Column("milestone_id", Integer, primary_key=True),
    Column("plan_id", ForeignKey("business_plans.plan_id"), nullable=False),
    Column("quarter", Integer, nullable=False),
    Column("metric", String(64), nullable=False),
    Column("target", Float, nullable=False),
    Column("owner", Text),
    Column("note", Text),
    Index("ix_business_plan_milestones_plan", "plan_id", "quarter"),
)

#: Every version of a plan as it was (the whole plan with its milestones, JSON), who made it,
#: when and what changed in words: the plan's history.
business_plan_versions = Table(
    "business_plan_versions",
    metadata,
    Column("plan_id", ForeignKey("business_plans.plan_id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("snapshot", JSON, nullable=False),
    Column("change", Text, nullable=False),
    Column("changed_by", Text, nullable=False),
    Column("changed_at", DateTime, nullable=False),
)

# ----------------------------------------------------------------------------- notifications

#: The outbox: one row per event that tells people something, written in the same transaction
#: as the event (``partnerscope.outbox.enqueue``). ``key`` makes the event idempotent (writing
#: it again changes nothing). ``audience`` "staff" never reaches a partner user; "partner"
#: reaches the users of ``partner_id`` (and the staff who look after it) and must hold nothing
#: internal. ``dispatched_at``: fanned out into ``deliveries`` (one per recipient and channel).
notifications = Table(
    "notifications",
    metadata,
    Column("notification_id", Integer, primary_key=True),
    Column("key", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("audience", String(16), nullable=False),
    Column("partner_id", String(64)),
    #: who besides the kind's default recipients: {"roles": [...], "users": [...],
    #: "addresses": [...], "webhooks": [...], "only": bool}
    Column("recipients", JSON, nullable=False),
    Column("title", Text, nullable=False),
    #: {"lines": [sentence, ...], "facts": [[label, value], ...]}
    Column("body", JSON, nullable=False),
    #: the page it is about, a path under the web app (``/partners/P001``)
    Column("link", Text),
    #: a report attached to its email: {"report": "scorecard"|"qbr"|..., "partner": id, ...}
    Column("attachment", JSON),
    Column("object_type", String(32)),
    Column("object_id", String(128)),
    Column("created_at", DateTime, nullable=False),
    Column("dispatched_at", DateTime),
    UniqueConstraint("key", name="uq_notifications_key"),
    Index("ix_notifications_dispatch", "dispatched_at"),
    Index("ix_notifications_object", "object_type", "object_id"),
)

#: One notification to one recipient on one channel ("email", "webhook", "inapp"). ``status``:
#: pending → sending (leased until ``lease_until``) → sent; or held for a digest ("held", then
#: "digested"), "off" (the recipient's preference), "dead" after the last attempt. The
#: ``idempotency_key`` travels with the message (Message-ID, the webhook's header) so that a
#: receiver can drop a repeat sent by a worker killed between sending and recording it.
deliveries = Table(
    "deliveries",
    metadata,
    Column("delivery_id", Integer, primary_key=True),
    Column(
        "notification_id",
        ForeignKey("notifications.notification_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("user_id", ForeignKey("users.user_id", ondelete="CASCADE")),
    #: an email address or a webhook's name
    Column("address", Text),
    Column("channel", String(16), nullable=False),
    Column("cadence", String(16), nullable=False),
    Column("idempotency_key", String(128), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime, nullable=False),
    Column("lease_until", DateTime),
    Column("last_error", Text),
    Column("sent_at", DateTime),
    Column("read_at", DateTime),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("idempotency_key", name="uq_deliveries_key"),
    Index("ix_deliveries_due", "status", "next_attempt_at"),
    Index("ix_deliveries_inbox", "user_id", "channel", "read_at"),
)

#: How a user wants each kind: "immediately", "daily", "weekly" or "off"; kind "*" is the
#: user's default. No row: the kind's default.
notification_preferences = Table(
    "notification_preferences",
    metadata,
    Column("user_id", ForeignKey("users.user_id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(40), primary_key=True),
    Column("cadence", String(16), nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

#: Each time a schedule fired (or was caught up): the primary key is the lock that keeps two
#: server processes from both firing it.
schedule_fires = Table(
    "schedule_fires",
    metadata,
    Column("schedule", String(64), primary_key=True),
    Column("fire_at", DateTime, primary_key=True),
    Column("claimed_at", DateTime, nullable=False),
    Column("claimed_by", Text, nullable=False),
    Column("finished_at", DateTime),
    Column("notifications", Integer),
    Column("error", Text),
)

#: An alert or approval escalated to a level's owners because no one acknowledged it in time.
escalations = Table(
    "escalations",
    metadata,
    Column("escalation_id", Integer, primary_key=True),
    Column("object_type", String(32), nullable=False),
    Column("object_id", String(128), nullable=False),
    Column("partner_id", String(64)),
    Column("level", Integer, nullable=False),
    Column("owners", JSON, nullable=False),
    Column("escalated_at", DateTime, nullable=False),
    UniqueConstraint("object_type", "object_id", "level", name="uq_escalations_level"),
)

#: Work that a rule opened for someone (or a person added): a task on a partner.
tasks = Table(
    "tasks",
    metadata,
    Column("task_id", Integer, primary_key=True),
    Column("partner_id", String(64), nullable=False),
    Column("title", Text, nullable=False),
    Column("detail", Text),
    Column("owner", String(64)),
    Column("due", Date),
    Column("status", String(16), nullable=False),
    Column("source", String(64)),
    Column("created_at", DateTime, nullable=False),
    Column("closed_at", DateTime),
    Column("closed_by", Text),
    Index("ix_tasks_partner", "partner_id"),
)

#: What each rule did, once per rule, partner and period (re-evaluating a run acts again on
#: nothing).
rule_actions = Table(
    "rule_actions",
    metadata,
    Column("action_id", Integer, primary_key=True),
    Column("rule", String(64), nullable=False),
    Column("partner_id", String(64), nullable=False),
    Column("period", String(32), nullable=False),
    Column("action", String(16), nullable=False),
    Column("object_id", Text),
    Column("run_id", Integer),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("rule", "partner_id", "period", name="uq_rule_actions_once"),
)
