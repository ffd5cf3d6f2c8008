"""The demo's self-check: replayed appeals that went missing are named, not hidden."""

from cli.demo import _gaps

WHOLE = {
    "mailbox.normalised": 3, "hotline.normalised": 3, "wechat.normalised": 3,
    "mailbox.published": 3, "hotline.published": 3, "wechat.published": 3,
    "appeals.classified": 9, "assignments.all": 8, "appeals.review": 1, "appeals.emergency": 2,
}  # fmt: skip


def test_a_run_where_everything_arrived_has_no_gaps():
    assert _gaps(WHOLE, 3) == []


def test_lost_wechat_sessions_are_named():
    lost = {**WHOLE, "wechat.normalised": 0, "wechat.published": 0, "appeals.classified": 6,
            "assignments.all": 5}  # fmt: skip
    assert _gaps(lost, 3) == ["wechat: 3 appeals replayed, 0 normalised (see the worker log)"]


def test_unclassified_and_unrouted_appeals_are_named():
    stuck = {**WHOLE, "appeals.classified": 7, "assignments.all": 5}
    assert _gaps(stuck, 3) == [
        "9 new appeals but 7 classified (see the worker log)",
        "7 classified but 6 assigned or sent to review",
    ]


def test_calls_for_help_that_were_not_transferred_are_named():
    missed = {**WHOLE, "appeals.emergency": 1}
    assert _gaps(missed, 3) == ["2 new calls for help replayed, 1 transferred"]


# a second demo on the same stack: every appeal is a duplicate, every WeChat session was
# closed before (its messages skipped, each session counted once as resent)
AGAIN = {
    "mailbox.normalised": 3, "hotline.normalised": 3, "wechat.normalised": 0,
    "mailbox.duplicate": 3, "hotline.duplicate": 3, "wechat.resent": 3,
}  # fmt: skip


def test_a_run_replaying_what_an_earlier_demo_sent_has_no_gaps():
    assert _gaps(AGAIN, 3, new_calls=0) == []


def test_wechat_sessions_neither_normalised_nor_resent_are_still_named():
    assert _gaps({**AGAIN, "wechat.resent": 1}, 3, new_calls=0) == [
        "wechat: 3 appeals replayed, 1 normalised (see the worker log)"
    ]


def test_calls_for_help_new_to_the_stack_must_be_transferred():
    assert _gaps(AGAIN, 3, new_calls=1) == ["1 new calls for help replayed, 0 transferred"]
