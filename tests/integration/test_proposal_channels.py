"""Where a proposal's later posts go when the community has no announce channel."""

from __future__ import annotations

from datetime import timedelta

from govbot.replies import Visibility
from govbot.services import messages, timers
from govbot.storage.db import Store
from tests.helpers import Community


def test_a_timer_posts_the_result_where_the_proposal_was_posted_without_an_announce_channel(
    store: Store,
) -> None:
    community = Community(store)
    community.say("admin", "/gov setup init")
    community.say("admin", "/gov body add tsc @ann")
    community.say("admin", "/gov body add tsc @bo")
    created = community.run(
        "ann", '/gov proposal create title:"Adopt a style guide" electorate:tsc closes:2d'
    )
    assert created[0].key == "proposal:1"
    # The front end posted it in #dev (the channel it was typed in) and noted where.
    messages.remember(store, "console", "c1", "proposal:1", "dev", "m1")
    community.say("ann", "/gov vote cast 1 yes")

    notices = timers.run_due(store, community.now + timedelta(days=3))

    results = [n.reply for n in notices if "has closed" in n.reply.text]
    assert len(results) == 1
    assert results[0].visibility is Visibility.PUBLIC
    assert results[0].recipient == "dev"


def test_with_an_announce_channel_the_result_goes_there(store: Store) -> None:
    community = Community(store)
    community.say("admin", "/gov setup init")
    community.say("admin", "/gov setup set announce:#governance")
    community.say("admin", "/gov body add tsc @ann")
    community.run("ann", '/gov proposal create title:"Adopt a style guide" electorate:tsc')
    messages.remember(store, "console", "c1", "proposal:1", "dev", "m1")

    notices = timers.run_due(store, community.now + timedelta(days=8))

    results = [n.reply for n in notices if "has closed" in n.reply.text]
    assert [r.recipient for r in results] == ["governance"]
