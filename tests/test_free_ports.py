"""The test harness's port picker: ports a mesh and its replicas can bind, out of the way of the
local ports that outgoing connections take."""

from __future__ import annotations

import socket

import pytest

from tests import procs
from tests.procs import SERVICE_REPLICA_OFFSETS, _ephemeral_ports_start, free_port


def test_ports_and_their_replica_offsets_are_free_below_the_ephemeral_range() -> None:
    port = free_port(*SERVICE_REPLICA_OFFSETS)
    assert 20000 <= port and port + max(SERVICE_REPLICA_OFFSETS) < _ephemeral_ports_start()
    for wanted in (port, *(port + offset for offset in SERVICE_REPLICA_OFFSETS)):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", wanted))


def test_no_port_is_handed_out_twice() -> None:
    handed = [free_port(1, 2) for _ in range(200)]
    taken = [p + offset for p in handed for offset in (0, 1, 2)]
    assert len(set(taken)) == len(taken)


def test_a_port_something_listens_on_is_passed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    busy, spare = free_port(), free_port()
    draws = iter([busy, spare])
    monkeypatch.setattr(procs.random, "randrange", lambda start, stop: next(draws))
    procs._handed_out.difference_update({busy, spare})
    with socket.socket() as held:
        held.bind(("127.0.0.1", busy))
        held.listen()
        assert free_port() == spare
