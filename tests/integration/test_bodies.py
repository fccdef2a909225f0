"""Setup and bodies, through the command table, on SQLite and Postgres."""

from __future__ import annotations

import pytest

from govbot.replies import Visibility
from govbot.services.timers import run_due
from govbot.storage.db import Store
from tests.helpers import Community


@pytest.fixture
def community(store: Store) -> Community:
    c = Community(store)
    assert "Governance is set up" in c.say("admin", "/gov setup init timezone:UTC")
    return c


def test_setup_init_creates_the_six_default_bodies_once(community: Community) -> None:
    listing = community.say("anyone", "/gov body list")
    for slug in ("committee", "tsc", "quality", "moderators", "operations", "mediators"):
        assert slug in listing
    before = community.counts()
    again = community.say("admin", "/gov setup init")
    assert "Already set up" in again
    assert community.counts() == before


def test_only_admins_and_the_committee_may_initialise(store: Store) -> None:
    c = Community(store)
    before = c.counts()
    replies = c.run("guest", "/gov setup init")
    assert replies[0].error and "permission" in replies[0].text
    assert replies[0].visibility is Visibility.PRIVATE
    after = c.counts()
    assert after["AuditEntry"] == before["AuditEntry"] == 0
    assert after["Body"] == 0


def test_a_committee_member_manages_every_body(community: Community) -> None:
    community.say("admin", "/gov body add committee @carol")
    assert "now sits on tsc" in community.say("carol", "/gov body add tsc @dan")


def test_a_chair_manages_their_own_body_but_not_others(community: Community) -> None:
    community.say("admin", "/gov body add tsc @wei role:chair")
    assert "now sits on tsc" in community.say("wei", "/gov body add tsc @qiao")
    before = community.counts()
    refused = community.run("wei", "/gov body add moderators @qiao")
    assert refused[0].error and "permission to manage moderators" in refused[0].text
    assert community.counts() == before


def test_a_refused_command_writes_no_state_and_no_audit_entry(community: Community) -> None:
    before = community.counts()
    for text in (
        "/gov body add tsc @x",  # no permission
        "/gov body join tsc",  # closed body
        "/gov body leave quality",  # not a member
        "/gov body show nowhere",  # unknown body
        "/gov body add tsc",  # usage
        "/gov body create name:Bad kind:custom",  # bad slug
    ):
        replies = community.run("guest", text)
        assert len(replies) == 1 and replies[0].error, text
        assert replies[0].visibility is Visibility.PRIVATE
        assert replies[0].recipient == "guest"
    after = community.counts()
    assert {k: v for k, v in after.items() if k != "Member"} == {
        k: v for k, v in before.items() if k != "Member"
    }


def test_anyone_may_join_and_leave_an_open_body(community: Community) -> None:
    joined = community.run("guest", "/gov body join operations")
    assert joined[0].visibility is Visibility.PUBLIC and "joined operations" in joined[0].text
    assert "@guest" in community.say("x", "/gov body show operations")
    assert "already sit" in community.say("guest", "/gov body join operations")
    assert "left operations" in community.say("guest", "/gov body leave operations")
    assert "@guest" not in community.say("x", "/gov body show operations")


def test_a_closed_body_refuses_joiners(community: Community) -> None:
    assert "not open" in community.say("guest", "/gov body join committee")


def test_a_term_ends_by_itself_and_stays_in_history(community: Community) -> None:
    community.say("admin", "/gov body add committee @qiao until:30d")
    assert "@qiao" in community.say("x", "/gov body show committee")
    community.advance(days=31)
    assert "@qiao" not in community.say("x", "/gov body show committee")
    history = community.say("x", "/gov body show committee history:yes")
    assert "Past terms" in history and "@qiao" in history


def test_an_ended_term_is_recorded_once_by_the_timer_and_the_member_told(
    community: Community,
) -> None:
    community.say("admin", "/gov body add committee @qiao until:30d")
    community.advance(days=31)
    notices = run_due(community.store, community.now)
    dms = [n.reply for n in notices if n.reply.visibility is Visibility.DM]
    assert [r.recipient for r in dms] == ["qiao"]
    assert "has ended" in dms[0].text
    assert run_due(community.store, community.now) == []
    assert "membership.term_ended" in community.say("x", "/gov audit log")


def test_the_body_term_sets_the_length_of_new_terms(community: Community) -> None:
    community.say("admin", "/gov body create name:docs kind:custom open:yes")
    assert "now last 6 months" in community.say("admin", "/gov body term docs length:6mo")
    community.say("guest", "/gov body join docs")
    assert "until 2026-07-05" in community.say("x", "/gov body show docs")


def test_a_new_chair_replaces_the_old_one_who_stays_a_member(community: Community) -> None:
    community.say("admin", "/gov body add tsc @wei role:chair")
    community.say("admin", "/gov body add tsc @qiao role:chair")
    shown = community.say("x", "/gov body show tsc")
    assert "@qiao, chair" in shown and "@wei, member" in shown


def test_the_quality_chair_rotates_by_seniority(community: Community) -> None:
    for name in ("ann", "bob", "cat"):
        community.say(name, "/gov body join quality")
        community.advance(hours=1)
    assert "@ann, chair" in community.say("x", "/gov body show quality")
    community.advance(days=90)
    notices = run_due(community.store, community.now)
    assert any("passes to @bob" in n.reply.text for n in notices)
    assert "@bob, chair" in community.say("x", "/gov body show quality")
    community.advance(days=90)
    run_due(community.store, community.now)
    assert "@cat, chair" in community.say("x", "/gov body show quality")
    community.advance(days=90)
    run_due(community.store, community.now)
    assert "@ann, chair" in community.say("x", "/gov body show quality")


def test_when_the_rotating_chair_leaves_the_next_member_takes_it(community: Community) -> None:
    community.say("ann", "/gov body join quality")
    community.advance(hours=1)
    community.say("bob", "/gov body join quality")
    said = community.say("ann", "/gov body leave quality")
    assert "passes to @bob" in said


def test_setup_set_changes_settings_and_refuses_bad_values(community: Community) -> None:
    assert "Settings changed" in community.say(
        "admin", "/gov setup set announce:#gov level1_days:5"
    )
    shown = community.say("admin", "/gov setup show")
    assert "announce: <#gov>" in shown and "level1_days: 5" in shown
    public = community.run("admin", "/gov body add tsc @wei", channel="random")
    assert public[0].recipient == "gov"  # public replies go to the announce channel
    before = community.counts()
    refused = community.run("admin", "/gov setup set level2_days:999")
    assert refused[0].error and refused[0].field_errors == {"level2_days": refused[0].text}
    assert community.counts() == before


def test_setup_set_with_no_values_offers_the_settings_form(community: Community) -> None:
    reply = community.run("admin", "/gov setup set")[0]
    assert reply.form is not None
    fields = {f.key: f for f in reply.form.fields}
    assert list(fields)[:3] == ["announce", "moderation", "disputes"]
    # Settings kept for capabilities still to come say so.
    assert "(not used yet)" in fields["level1_days"].hint
    assert "(not used yet)" not in fields["timezone"].hint
    assert reply.form.command == "setup set"


def test_the_language_setting_switches_replies(community: Community) -> None:
    community.say("admin", "/gov setup set language:zh-CN")
    assert "权限" in community.say("guest", "/gov body add tsc @x")


def test_body_show_offers_a_join_button_on_open_bodies_only(community: Community) -> None:
    shown = community.run("guest", "/gov body show quality")[0]
    assert [(b.label, b.command) for b in shown.buttons] == [("Join", "body join quality")]
    assert community.run("guest", "/gov body show tsc")[0].buttons == []


def test_help_lists_commands_privately(community: Community) -> None:
    reply = community.run("guest", "/gov help body")[0]
    assert reply.visibility is Visibility.PRIVATE
    assert "/gov body add <body> <member>" in reply.text
    assert "/gov audit verify" not in reply.text


def test_communities_never_see_each_other(store: Store) -> None:
    one, two = Community(store, community_id="one"), Community(store, community_id="two")
    one.say("admin", "/gov setup init")
    one.say("admin", "/gov body add committee @wei")
    assert "No bodies yet" in two.say("admin", "/gov body list")
    two.say("admin", "/gov setup init")
    assert "@wei" not in two.say("admin", "/gov body show committee")
