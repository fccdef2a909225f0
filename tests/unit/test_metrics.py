"""The Prometheus text the `/metrics` endpoint serves."""

from __future__ import annotations

from govbot.metrics import Metrics


def test_commands_latency_errors_and_gauges_render_in_prometheus_text() -> None:
    registry = Metrics()
    registry.record_command("slack", "body join", "ok", 0.02)
    registry.record_command("slack", "body join", "ok", 3.0)
    registry.record_command("discord", "help", "refused", 0.001)
    registry.record_error("slack", "api")

    lines = registry.render({"govbot_pending_timers": ("Work waiting.", 4)}).splitlines()

    assert 'govbot_commands_total{platform="slack",command="body join",outcome="ok"} 2' in lines
    assert 'govbot_commands_total{platform="discord",command="help",outcome="refused"} 1' in lines
    bucket = 'govbot_command_duration_seconds_bucket{platform="slack",command="body join",le='
    assert f'{bucket}"0.025"}} 1' in lines
    assert f'{bucket}"5.0"}} 2' in lines
    assert f'{bucket}"+Inf"}} 2' in lines
    assert 'govbot_command_duration_seconds_count{platform="slack",command="body join"} 2' in lines
    assert 'govbot_command_duration_seconds_sum{platform="slack",command="body join"} 3.02' in lines
    assert 'govbot_errors_total{platform="slack",kind="api"} 1' in lines
    assert "# TYPE govbot_pending_timers gauge" in lines
    assert "govbot_pending_timers 4" in lines


def test_label_values_are_escaped() -> None:
    registry = Metrics()
    registry.record_error("slack", 'a"b\\c\nd')

    assert 'kind="a\\"b\\\\c\\nd"' in registry.render()
