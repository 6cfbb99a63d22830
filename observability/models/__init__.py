"""The models of observability, one module per part (one app label, one migrations folder): models/metrics.py
for the CloudWatch sync, models/sagas.py for the saga sync. Import them from here."""

from observability.models.metrics import Alarm, CloudWatchSync, ResourceDimensions
from observability.models.sagas import SagaAlert, SagaExecution, SagaStateMachine

__all__ = ["Alarm", "CloudWatchSync", "ResourceDimensions", "SagaAlert", "SagaExecution", "SagaStateMachine"]
