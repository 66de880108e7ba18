"""ExperimentService over gRPC: translates messages to :class:`~.service.Experiments` calls."""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from meshserve.v1 import experiments_pb2 as pb
from meshserve.v1 import experiments_pb2_grpc as pb_grpc
from services.common.messages import message_from
from services.inference.experiments.records import Experiment
from services.inference.experiments.service import Experiments, Report
from services.inference.jobs.records import iso


def experiment_message(experiment: Experiment) -> pb.Experiment:
    """An experiment as its message."""
    return message_from(
        pb.Experiment,
        experiment,
        arms=[message_from(pb.Arm, a) for a in experiment.arms],
        status=experiment.state(),
        created_at=iso(experiment.created_at) or "",
        ends_at=iso(experiment.ends_at) or "",
    )


def report_message(report: Report) -> pb.GetExperimentResponse:
    """An experiment with its figures and tests."""
    return pb.GetExperimentResponse(
        experiment=experiment_message(report.experiment),
        arms=[message_from(pb.ArmResult, f) for f in report.figures],
        comparisons=[message_from(pb.Comparison, c) for c in report.comparisons],
    )


@dataclass(eq=False)
class ExperimentServicer(pb_grpc.ExperimentServiceServicer):
    """The gRPC face of the experiments."""

    experiments: Experiments

    async def CreateExperiment(
        self, request: pb.CreateExperimentRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateExperimentResponse:
        """Starts an experiment."""
        arms = [(a.name, a.model, a.weight or 1.0) for a in request.arms]
        experiment = await self.experiments.create(
            request.name, request.route_model, arms, request.success_metric, request.duration_seconds
        )
        return pb.CreateExperimentResponse(experiment=experiment_message(experiment))

    async def GetExperiment(
        self, request: pb.GetExperimentRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetExperimentResponse:
        """An experiment with its figures."""
        return report_message(await self.experiments.report(request.experiment_id))

    async def ListExperiments(
        self, request: pb.ListExperimentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListExperimentsResponse:
        """Every experiment."""
        return pb.ListExperimentsResponse(
            experiments=[experiment_message(e) for e in await self.experiments.list()]
        )

    async def StopExperiment(
        self, request: pb.StopExperimentRequest, context: grpc.aio.ServicerContext
    ) -> pb.StopExperimentResponse:
        """Ends the split."""
        return pb.StopExperimentResponse(
            experiment=experiment_message(await self.experiments.stop(request.experiment_id))
        )

    async def PromoteExperiment(
        self, request: pb.PromoteExperimentRequest, context: grpc.aio.ServicerContext
    ) -> pb.PromoteExperimentResponse:
        """Ends the split in favour of one arm."""
        promoted = await self.experiments.promote(request.experiment_id, request.arm)
        return pb.PromoteExperimentResponse(experiment=experiment_message(promoted))

    async def RecordFeedback(
        self, request: pb.RecordFeedbackRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordFeedbackResponse:
        """Records a satisfaction score."""
        experiment_id, arm = await self.experiments.feedback(request.request_id, request.score)
        return pb.RecordFeedbackResponse(experiment_id=experiment_id, arm=arm)
