"""Which replica runs each fine-tune, when several inference replicas share the store.

A run trains in a process of the replica that created it: its ``owner``. The owner renews the
run's lease every poll while the run has not ended. Any replica answers a cancel. The owner stops
its run at once. Another replica raises the run's ``cancel_requested`` flag, which the owner acts
on at its next renewal.

A run whose lease ran out has lost its replica (killed, or its machine gone). The next look of any
replica ends it: cancelled when a cancel was asked, else failed as interrupted. So no run stays
``training`` forever. With a private store, the service's start does the same for every
unfinished run (``FineTuneRuns.recover``). Each end is one conditional ``UPDATE``: of two replicas
ending the same run, one does.
"""

from __future__ import annotations

import os
import socket
import uuid

from services.inference.jobs.store import SqlJobStore

_UNFINISHED = "status NOT IN ('succeeded', 'failed', 'cancelled')"
INTERRUPTED = "interrupted: the replica running it stopped; start it again"


class RunLeases:
    """This replica's claim on its runs, and the ends of runs whose replica is gone."""

    def __init__(self, db: SqlJobStore, lease_seconds: float, owner: str = "") -> None:
        self.db = db
        self.lease_seconds = lease_seconds
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    def take(self, fine_tune_id: str, now: float) -> None:
        """Makes this replica the run's owner."""
        self.db.run(
            "UPDATE fine_tunes SET owner = ?, lease_until = ? WHERE fine_tune_id = ?",
            (self.owner, now + self.lease_seconds, fine_tune_id),
        )

    def renew(self, now: float, running: list[str]) -> list[str]:
        """Renews the leases of this replica's unfinished runs; returns those of ``running`` (the
        runs training here) to stop: a cancel was asked, or another replica ended the run."""
        self.db.run(
            f"UPDATE fine_tunes SET lease_until = ? WHERE owner = ? AND {_UNFINISHED}",
            (now + self.lease_seconds, self.owner),
        )
        if not running:
            return []
        marks = ", ".join("?" for _ in running)
        rows = self.db.run(
            f"SELECT fine_tune_id FROM fine_tunes WHERE fine_tune_id IN ({marks})"
            f" AND (cancel_requested = 1 OR NOT ({_UNFINISHED}))",
            tuple(running),
        ).fetchall()
        return [str(row[0]) for row in rows]

    def ask_to_cancel(self, fine_tune_id: str) -> None:
        """Raises the flag the run's owner acts on."""
        self.db.run(
            f"UPDATE fine_tunes SET cancel_requested = 1 WHERE fine_tune_id = ? AND {_UNFINISHED}",
            (fine_tune_id,),
        )

    def end_abandoned(self, now: float) -> list[str]:
        """Ends the unfinished runs whose lease ran out; returns those this call ended."""
        rows = self.db.run(
            f"SELECT fine_tune_id FROM fine_tunes WHERE owner <> '' AND lease_until < ? AND {_UNFINISHED}",
            (now,),
        ).fetchall()
        ended = []
        for (fine_tune_id,) in rows:
            cursor = self.db.run(
                "UPDATE fine_tunes SET"
                " status = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'failed' END,"
                " error = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE ? END,"
                f" finished_at = ? WHERE fine_tune_id = ? AND lease_until < ? AND {_UNFINISHED}",
                (INTERRUPTED, now, fine_tune_id, now),
            )
            if cursor.rowcount:
                ended.append(str(fine_tune_id))
        return ended
