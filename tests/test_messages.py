"""Field-by-name copies between messages and dataclasses (``services.common.messages``)."""

from __future__ import annotations

from meshserve.v1 import inference_pb2, metering_pb2
from services.common.messages import as_dict, message_from, record_from
from services.common.plans import Plan
from services.inference.devices import DeviceFacts
from services.inference.repository import Batching


def test_a_plan_goes_to_its_message_and_back_with_its_map() -> None:
    plan = Plan("pro", 1000, 5_000_000, 2, 49.0, 0.5, {"smollm2": 0.25})
    message = message_from(metering_pb2.PlanLimits, plan)
    assert message.model_prices["smollm2"] == 0.25 and message.monthly_fee_usd == 49.0
    back = record_from(Plan, message)
    assert back == plan
    assert type(back.model_prices) is dict


def test_repeated_fields_come_back_as_lists_and_overrides_win() -> None:
    message = inference_pb2.BatchingConfig(
        max_batch_size=8, preferred_batch_sizes=[2, 4], max_queue_delay_microseconds=100
    )
    batching = record_from(Batching, message, preferred_batch_sizes=(4,))
    assert batching.preferred_batch_sizes == (4,) and batching.max_batch_size == 8
    assert record_from(Plan, metering_pb2.PlanLimits(name="x")).model_prices == {}


def test_a_value_not_measured_stays_unset() -> None:
    facts = DeviceFacts(id="cpu", name="CPU", memory_total_bytes=1, memory_used_bytes=0)
    message = message_from(inference_pb2.Device, facts)
    assert message.name == "CPU"
    assert not message.HasField("temperature_celsius")


def test_keyword_fields_name_what_the_source_lacks() -> None:
    message = message_from(inference_pb2.Worker, object(), id="w0", models=["b", "a"])
    assert message.id == "w0" and list(message.models) == ["b", "a"]


def test_as_dict_keeps_numbers_and_turns_containers_into_json() -> None:
    plan = metering_pb2.PlanLimits(name="pro", monthly_tokens=2**40, model_prices={"m": 0.5})
    found = as_dict(plan, priority="high")
    assert found["monthly_tokens"] == 2**40  # json_format would make it the string "1099511627776"
    assert found["model_prices"] == {"m": 0.5} and type(found["model_prices"]) is dict
    assert found["priority"] == "high"
    assert list(found)[:3] == ["name", "requests_per_hour", "monthly_tokens"]
    forecast = metering_pb2.QueryUsageResponse(rows=[metering_pb2.UsageRow(day="2026-12-01", requests=3)])
    assert as_dict(forecast)["rows"][0]["requests"] == 3
