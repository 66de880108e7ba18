from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UsageRecord(_message.Message):
    __slots__ = ("request_id", "tenant", "api_key_id", "plan", "model", "surface", "prompt_tokens", "completion_tokens", "units", "unit", "latency_ms", "outcome", "finished_at")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    API_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SURFACE_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    tenant: str
    api_key_id: str
    plan: str
    model: str
    surface: str
    prompt_tokens: int
    completion_tokens: int
    units: float
    unit: str
    latency_ms: float
    outcome: str
    finished_at: float
    def __init__(self, request_id: _Optional[str] = ..., tenant: _Optional[str] = ..., api_key_id: _Optional[str] = ..., plan: _Optional[str] = ..., model: _Optional[str] = ..., surface: _Optional[str] = ..., prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., units: _Optional[float] = ..., unit: _Optional[str] = ..., latency_ms: _Optional[float] = ..., outcome: _Optional[str] = ..., finished_at: _Optional[float] = ...) -> None: ...

class RecordUsageRequest(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[UsageRecord]
    def __init__(self, records: _Optional[_Iterable[_Union[UsageRecord, _Mapping]]] = ...) -> None: ...

class BudgetAlert(_message.Message):
    __slots__ = ("tenant", "threshold_percent", "limit_usd", "spent_usd", "month", "crossed_at")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_PERCENT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_USD_FIELD_NUMBER: _ClassVar[int]
    SPENT_USD_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    CROSSED_AT_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    threshold_percent: int
    limit_usd: float
    spent_usd: float
    month: str
    crossed_at: float
    def __init__(self, tenant: _Optional[str] = ..., threshold_percent: _Optional[int] = ..., limit_usd: _Optional[float] = ..., spent_usd: _Optional[float] = ..., month: _Optional[str] = ..., crossed_at: _Optional[float] = ...) -> None: ...

class ListBudgetAlertsRequest(_message.Message):
    __slots__ = ("since",)
    SINCE_FIELD_NUMBER: _ClassVar[int]
    since: float
    def __init__(self, since: _Optional[float] = ...) -> None: ...

class ListBudgetAlertsResponse(_message.Message):
    __slots__ = ("alerts",)
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    alerts: _containers.RepeatedCompositeFieldContainer[BudgetAlert]
    def __init__(self, alerts: _Optional[_Iterable[_Union[BudgetAlert, _Mapping]]] = ...) -> None: ...

class RecordUsageResponse(_message.Message):
    __slots__ = ("stored", "alerts")
    STORED_FIELD_NUMBER: _ClassVar[int]
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    stored: int
    alerts: _containers.RepeatedCompositeFieldContainer[BudgetAlert]
    def __init__(self, stored: _Optional[int] = ..., alerts: _Optional[_Iterable[_Union[BudgetAlert, _Mapping]]] = ...) -> None: ...

class GetAllowanceRequest(_message.Message):
    __slots__ = ("tenant", "plan")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    plan: str
    def __init__(self, tenant: _Optional[str] = ..., plan: _Optional[str] = ...) -> None: ...

class GetAllowanceResponse(_message.Message):
    __slots__ = ("quota_tokens", "used_tokens", "reset_at", "budget_usd", "spent_usd", "priority")
    QUOTA_TOKENS_FIELD_NUMBER: _ClassVar[int]
    USED_TOKENS_FIELD_NUMBER: _ClassVar[int]
    RESET_AT_FIELD_NUMBER: _ClassVar[int]
    BUDGET_USD_FIELD_NUMBER: _ClassVar[int]
    SPENT_USD_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    quota_tokens: int
    used_tokens: int
    reset_at: int
    budget_usd: float
    spent_usd: float
    priority: int
    def __init__(self, quota_tokens: _Optional[int] = ..., used_tokens: _Optional[int] = ..., reset_at: _Optional[int] = ..., budget_usd: _Optional[float] = ..., spent_usd: _Optional[float] = ..., priority: _Optional[int] = ...) -> None: ...

class PlanLimits(_message.Message):
    __slots__ = ("name", "requests_per_hour", "monthly_tokens", "price_per_1k_tokens", "model_prices", "priority", "monthly_fee_usd")
    class ModelPricesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_TOKENS_FIELD_NUMBER: _ClassVar[int]
    PRICE_PER_1K_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MODEL_PRICES_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_FEE_USD_FIELD_NUMBER: _ClassVar[int]
    name: str
    requests_per_hour: int
    monthly_tokens: int
    price_per_1k_tokens: float
    model_prices: _containers.ScalarMap[str, float]
    priority: int
    monthly_fee_usd: float
    def __init__(self, name: _Optional[str] = ..., requests_per_hour: _Optional[int] = ..., monthly_tokens: _Optional[int] = ..., price_per_1k_tokens: _Optional[float] = ..., model_prices: _Optional[_Mapping[str, float]] = ..., priority: _Optional[int] = ..., monthly_fee_usd: _Optional[float] = ...) -> None: ...

class ListPlansRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPlansResponse(_message.Message):
    __slots__ = ("plans",)
    PLANS_FIELD_NUMBER: _ClassVar[int]
    plans: _containers.RepeatedCompositeFieldContainer[PlanLimits]
    def __init__(self, plans: _Optional[_Iterable[_Union[PlanLimits, _Mapping]]] = ...) -> None: ...

class UpdatePlanRequest(_message.Message):
    __slots__ = ("plan",)
    PLAN_FIELD_NUMBER: _ClassVar[int]
    plan: PlanLimits
    def __init__(self, plan: _Optional[_Union[PlanLimits, _Mapping]] = ...) -> None: ...

class UpdatePlanResponse(_message.Message):
    __slots__ = ("plan",)
    PLAN_FIELD_NUMBER: _ClassVar[int]
    plan: PlanLimits
    def __init__(self, plan: _Optional[_Union[PlanLimits, _Mapping]] = ...) -> None: ...

class Budget(_message.Message):
    __slots__ = ("tenant", "limit_usd", "alert_thresholds", "spent_usd", "alerted", "month")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_USD_FIELD_NUMBER: _ClassVar[int]
    ALERT_THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    SPENT_USD_FIELD_NUMBER: _ClassVar[int]
    ALERTED_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    limit_usd: float
    alert_thresholds: _containers.RepeatedScalarFieldContainer[int]
    spent_usd: float
    alerted: _containers.RepeatedScalarFieldContainer[int]
    month: str
    def __init__(self, tenant: _Optional[str] = ..., limit_usd: _Optional[float] = ..., alert_thresholds: _Optional[_Iterable[int]] = ..., spent_usd: _Optional[float] = ..., alerted: _Optional[_Iterable[int]] = ..., month: _Optional[str] = ...) -> None: ...

class SetBudgetRequest(_message.Message):
    __slots__ = ("budget",)
    BUDGET_FIELD_NUMBER: _ClassVar[int]
    budget: Budget
    def __init__(self, budget: _Optional[_Union[Budget, _Mapping]] = ...) -> None: ...

class SetBudgetResponse(_message.Message):
    __slots__ = ("budget",)
    BUDGET_FIELD_NUMBER: _ClassVar[int]
    budget: Budget
    def __init__(self, budget: _Optional[_Union[Budget, _Mapping]] = ...) -> None: ...

class GetBudgetRequest(_message.Message):
    __slots__ = ("tenant",)
    TENANT_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    def __init__(self, tenant: _Optional[str] = ...) -> None: ...

class GetBudgetResponse(_message.Message):
    __slots__ = ("budget",)
    BUDGET_FIELD_NUMBER: _ClassVar[int]
    budget: Budget
    def __init__(self, budget: _Optional[_Union[Budget, _Mapping]] = ...) -> None: ...

class QueryUsageRequest(_message.Message):
    __slots__ = ("tenant", "model", "date_from", "date_to")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DATE_FROM_FIELD_NUMBER: _ClassVar[int]
    DATE_TO_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    model: str
    date_from: str
    date_to: str
    def __init__(self, tenant: _Optional[str] = ..., model: _Optional[str] = ..., date_from: _Optional[str] = ..., date_to: _Optional[str] = ...) -> None: ...

class UsageRow(_message.Message):
    __slots__ = ("day", "tenant", "model", "requests", "prompt_tokens", "completion_tokens", "cost_usd", "latency_p50_ms", "latency_p95_ms", "errors", "units")
    DAY_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COST_USD_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P50_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P95_MS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    day: str
    tenant: str
    model: str
    requests: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_p50_ms: float
    latency_p95_ms: float
    errors: int
    units: float
    def __init__(self, day: _Optional[str] = ..., tenant: _Optional[str] = ..., model: _Optional[str] = ..., requests: _Optional[int] = ..., prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., cost_usd: _Optional[float] = ..., latency_p50_ms: _Optional[float] = ..., latency_p95_ms: _Optional[float] = ..., errors: _Optional[int] = ..., units: _Optional[float] = ...) -> None: ...

class CostForecast(_message.Message):
    __slots__ = ("month", "spent_usd", "projected_usd", "projected_low_usd", "projected_high_usd", "method")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    SPENT_USD_FIELD_NUMBER: _ClassVar[int]
    PROJECTED_USD_FIELD_NUMBER: _ClassVar[int]
    PROJECTED_LOW_USD_FIELD_NUMBER: _ClassVar[int]
    PROJECTED_HIGH_USD_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    month: str
    spent_usd: float
    projected_usd: float
    projected_low_usd: float
    projected_high_usd: float
    method: str
    def __init__(self, month: _Optional[str] = ..., spent_usd: _Optional[float] = ..., projected_usd: _Optional[float] = ..., projected_low_usd: _Optional[float] = ..., projected_high_usd: _Optional[float] = ..., method: _Optional[str] = ...) -> None: ...

class QueryUsageResponse(_message.Message):
    __slots__ = ("rows", "forecast")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    FORECAST_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[UsageRow]
    forecast: CostForecast
    def __init__(self, rows: _Optional[_Iterable[_Union[UsageRow, _Mapping]]] = ..., forecast: _Optional[_Union[CostForecast, _Mapping]] = ...) -> None: ...
