"""Where webhooks and job callbacks may go (``webhook_allowed_hosts``): checked when registered and
again before each delivery, against a real loopback receiver. No mesh."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from services.common.destinations import Destinations
from services.common.errors import InvalidInput
from services.inference.jobs.records import ItemSpec, JobConfig
from services.inference.jobs.settings import JobSettings
from services.inference.jobs.store import JobStore
from services.inference.jobs.validation import validate_submission
from services.inference.jobs.webhooks import WebhookHub, validate_url
from tests.webhook_receiver import Receiver


def test_the_default_allows_everywhere_but_the_cloud_metadata_addresses() -> None:
    anywhere = Destinations.parse("")
    for address in ("169.254.169.254", "169.254.0.1", "fe80::1", "[fd00:ec2::254]", "::ffff:169.254.169.254"):
        assert anywhere.allows_name(address) is False, address
    for address in ("127.0.0.1", "10.0.0.5", "93.184.215.14", "::1"):
        assert anywhere.allows_name(address) is True, address
    assert anywhere.allows_name("hooks.example.com") is None  # resolved at each delivery
    assert anywhere.allows_addresses(["93.184.215.14"]) and not anywhere.allows_addresses(["169.254.169.254"])
    assert Destinations.parse("169.254.0.0/16").allows_name("169.254.169.254") is True  # listed: allowed


async def test_a_name_that_resolves_to_the_metadata_address_is_refused_by_default() -> None:
    anywhere = Destinations.parse("")
    assert await anywhere.allows("localhost") is True
    assert await anywhere.allows("metadata.invalid") is True  # no address: the delivery fails by itself
    with pytest.raises(InvalidInput, match="not allowed"):
        validate_url("http://169.254.169.254/latest/meta-data/", "url", anywhere)


def hub(tmp_path: Path, allowed: str) -> WebhookHub:
    return WebhookHub(JobStore(tmp_path / "jobs.sqlite3"), JobSettings(webhook_allowed_hosts=allowed))


def test_entries_are_hosts_domains_addresses_and_networks() -> None:
    allowed = Destinations.parse(" hooks.example.com, *.internal.example ,10.0.0.0/8, ::1 ,")
    assert allowed.allows_name("hooks.example.com") is True
    assert allowed.allows_name("HOOKS.example.com.") is True  # case and the root dot do not matter
    assert allowed.allows_name("a.b.internal.example") is True
    assert allowed.allows_name("internal.example") is None  # "*." covers subdomains only; networks decide
    assert allowed.allows_name("10.1.2.3") is True and allowed.allows_name("[::1]") is True
    assert allowed.allows_name("169.254.169.254") is False  # an address outside every network
    assert allowed.allows_name("evil.example.org") is None  # a name: its addresses decide
    assert Destinations.parse("hooks.example.com").allows_name("evil.example.org") is False
    assert Destinations.parse("").everywhere and Destinations.parse("").allows_name("10.1.2.3")
    assert allowed.describe() == ["hooks.example.com", "*.internal.example", "10.0.0.0/8", "::1/128"]
    for bad in ("hooks.example.com/x", "a*b.example", "http://x"):
        with pytest.raises(ValueError, match="not a host"):
            Destinations.parse(bad)


async def test_a_name_passes_a_network_only_if_all_its_addresses_are_inside() -> None:
    assert await Destinations.parse("127.0.0.0/8, ::1").allows("localhost")
    assert not await Destinations.parse("10.0.0.0/8").allows("localhost")
    assert not await Destinations.parse("10.0.0.0/8").allows("no-such-host.invalid")  # unresolvable
    assert Destinations.parse("127.0.0.0/8").allows_addresses(["127.0.0.1"])
    assert not Destinations.parse("127.0.0.0/8").allows_addresses(["127.0.0.1", "::1"])  # one outside
    assert not Destinations.parse("127.0.0.0/8").allows_addresses([])


def test_a_bad_setting_stops_the_service_at_start() -> None:
    with pytest.raises(ValidationError, match="not a host"):
        JobSettings(webhook_allowed_hosts="hooks.example.com, 10.0.0.0/8/9")


async def test_registration_outside_the_list_is_refused(tmp_path: Path) -> None:
    webhooks = hub(tmp_path, "hooks.example.com")
    with pytest.raises(InvalidInput) as refused:
        webhooks.register("http://169.254.169.254/latest/meta-data", ["job.completed"], "", 3, 0)
    assert refused.value.details == {
        "field": "url",
        "host": "169.254.169.254",
        "allowed_hosts": ["hooks.example.com"],
    }
    assert webhooks.list() == []  # nothing half-written
    hook, _ = webhooks.register("https://hooks.example.com/in", ["job.completed"], "", 3, 0)
    assert [h.webhook_id for h in webhooks.list()] == [hook.webhook_id]
    await webhooks.close()


def test_a_job_callback_outside_the_list_is_refused() -> None:
    settings = JobSettings(webhook_allowed_hosts="*.example.com")
    item = ItemSpec(model="default", prompt="hi")
    validate_submission(
        "batch_inference", [item], JobConfig(callback_url="https://app.example.com/done"), settings
    )
    with pytest.raises(InvalidInput) as refused:
        validate_submission(
            "batch_inference", [item], JobConfig(callback_url="http://127.0.0.1:9/admin"), settings
        )
    assert refused.value.details["field"] == "config.callback_url"


async def test_delivery_checks_again_and_sends_nothing_outside(tmp_path: Path, receiver: Receiver) -> None:
    port = receiver.url.rsplit(":", 1)[1]
    # The list changed since registration: a name resolving outside it gets no request, no retry.
    outside = hub(tmp_path / "a", "10.0.0.0/8")
    outcome = await outside.deliver(
        f"http://localhost:{port}/hook", "", "job.completed", "evt_1", b"{}", 3, 5
    )
    assert (outcome.delivered, outcome.attempts) == (False, 0) and "not allowed" in outcome.error
    # Inside the list the same delivery goes out.
    inside = hub(tmp_path / "b", "127.0.0.1")
    outcome = await inside.deliver(f"{receiver.url}/hook", "", "job.completed", "evt_2", b"{}", 3, 5)
    assert outcome.delivered and outcome.attempts == 1
    assert [r.headers["x-webhook-id"] for r in receiver.received] == ["evt_2"]
    await outside.close()
    await inside.close()
