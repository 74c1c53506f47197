"""Commands of the models: train and evaluate the no-show model, score upcoming appointments,
forecast and evaluate demand. Each prints its metrics as one JSON object with --json.

`pipelines` (DuckDB, xgboost, prophet) is imported only inside these commands: the rest of the
CLI starts without it. The no-show steps are `pipelines.no_show`, the demand steps
`pipelines.demand`.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from core_app.cli.commands_setup import parse_date
from core_app.cli.context import refusals
from core_app.cli.output import emit
from core_app.config import Settings
from core_app.domain.exceptions import ValidationError

train_app = typer.Typer(help="Train a model on the warehouse's history.", no_args_is_help=True)
evaluate_app = typer.Typer(
    help="Evaluate a model on the latest window against baselines (and the simulator's truth).",
    no_args_is_help=True,
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
SeedOpt = Annotated[int, typer.Option(help="Seed of the model's random choices.")]
RoundsOpt = Annotated[int, typer.Option(help="Boosting rounds.")]
TopKOpt = Annotated[
    int, typer.Option("--top-k", help="Appointments a front desk can call per clinic and day.")
]
TestDaysOpt = Annotated[int, typer.Option(help="Days of the latest window the model is tested on.")]
CalibrationDaysOpt = Annotated[
    int, typer.Option(help="Days before the test window the probabilities are calibrated on.")
]


def _options(
    seed: int, rounds: int, top_k: int, test_days: int, calibration_days: int
) -> Any:  # pipelines.no_show.Options, imported lazily
    from models.no_show.train import BoostingParams
    from pipelines.no_show import Options

    return Options(
        params=BoostingParams(n_estimators=rounds, seed=seed),
        k=top_k,
        test_days=test_days,
        calibration_days=calibration_days,
    )


def _scorers_line(report: dict[str, Any]) -> str:
    def line(name: str, m: dict[str, Any] | None) -> str:
        if m is None:
            return f"  {name}: -"
        return (
            f"  {name}: ROC AUC {m['roc_auc']:.3f}, PR AUC {m['pr_auc']:.3f}, "
            f"Brier {m['brier']:.4f}, log loss {m['log_loss']:.4f}, ECE {m['ece']:.4f}"
        )

    lines = [line("model", report["model"])]
    lines += [line(name, m) for name, m in report["baselines"].items()]
    lines.append(line("truth", report["truth"]))
    return "\n".join(lines)


def _run_no_show(step: str, options: Any) -> dict[str, Any]:
    from pipelines import no_show

    with refusals():
        try:
            result: dict[str, Any] = getattr(no_show, step)(Settings(), options)
        except no_show.NoShowUnavailable as error:
            raise ValidationError(str(error)) from error
    return result


@train_app.command("no-show")
def train_no_show(
    seed: SeedOpt = 0,
    rounds: RoundsOpt = 800,
    top_k: TopKOpt = 10,
    test_days: TestDaysOpt = 91,
    calibration_days: CalibrationDaysOpt = 91,
    as_json: JsonOpt = False,
) -> None:
    """Train, calibrate and evaluate a new no-show model; it becomes the one used for scoring
    only if it is at least as good as the current one on the latest window."""
    result = _run_no_show("train", _options(seed, rounds, top_k, test_days, calibration_days))
    verdict = "promoted" if result["promoted"] else "kept the current model"
    emit(
        result,
        as_json=as_json,
        human=f"model {result['run_id']}: {verdict} ({result['reason']})\n" + _scorers_line(result),
    )


@evaluate_app.command("no-show")
def evaluate_no_show(
    seed: SeedOpt = 0,
    rounds: RoundsOpt = 800,
    top_k: TopKOpt = 10,
    test_days: TestDaysOpt = 91,
    calibration_days: CalibrationDaysOpt = 91,
    as_json: JsonOpt = False,
) -> None:
    """Train on the past and evaluate on the latest window (registers nothing): the model, the
    baselines by name and the truth (null on real data)."""
    result = _run_no_show("evaluate", _options(seed, rounds, top_k, test_days, calibration_days))
    window = result["windows"]["test"]
    emit(
        result,
        as_json=as_json,
        human=f"test window {window['first_date']} .. {window['last_date']} "
        f"({window['rows']} appointments)\n" + _scorers_line(result),
    )


def score(
    days: Annotated[int, typer.Option(help="Score appointments of the next N days.")] = 14,
    as_of: Annotated[
        str | None,
        typer.Option(help="First day, YYYY-MM-DD (default: the warehouse's as-of day)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score every upcoming appointment of the next N days with the current no-show model:
    probability, risk band and factors, into the warehouse (ml.no_show_scores) and the core."""
    from pipelines import no_show

    with refusals():
        first = parse_date(as_of, "--as-of") if as_of else None
        try:
            result = no_show.score(Settings(), days=days, as_of=first)
        except no_show.NoShowUnavailable as error:
            raise ValidationError(str(error)) from error
    bands = result["bands"]
    emit(
        result,
        as_json=as_json,
        human=f"{result['scored']} appointments scored from {result['as_of_date']} "
        f"(+{days} days) with model {result['model_version']}: "
        f"{bands['high']} high, {bands['medium']} medium, {bands['low']} low risk",
    )


def _run_demand(step: str) -> dict[str, Any]:
    from pipelines import demand

    with refusals():
        try:
            result: dict[str, Any] = getattr(demand, step)(Settings())
        except demand.DemandUnavailable as error:
            raise ValidationError(str(error)) from error
    return result


def forecast(as_json: JsonOpt = False) -> None:
    """Forecast daily demand per clinic and procedure category (90 days, 80 % intervals) into
    the warehouse (ml.demand_forecasts)."""
    result = _run_demand("forecast")
    emit(result, as_json=as_json, human=_summary(result))


@evaluate_app.command("demand")
def evaluate_demand(as_json: JsonOpt = False) -> None:
    """Rolling-origin backtest of the demand forecast at 7 and 28 days against the baselines
    (and the simulator's true intensity): MASE, WAPE, 80 % interval coverage."""
    result = _run_demand("evaluate")
    emit(result, as_json=as_json, human=_summary(result))


def _summary(result: dict[str, Any]) -> str:
    return "\n".join(f"{key}: {value}" for key, value in result.items())
