"""The ``hyperknob`` command.

    hyperknob studies [--directory DIR | --storage URL]
    hyperknob summary PROJECT [--directory DIR | --storage URL] [--json]
    hyperknob trials PROJECT [--status COMPLETED,FAILED] [--sort score] [--columns a,b] [--limit N] [--json]
    hyperknob best PROJECT [-n 3] [--json]
    hyperknob pareto PROJECT [--all] [--export front.csv|front.json] [--json]
    hyperknob export PROJECT --format csv|json [--output FILE]
    hyperknob report PROJECT --output report.html [--watch SECONDS]
    hyperknob importance PROJECT [--method fanova|ped-anova] [--json]
    hyperknob tensorboard PROJECT --logdir DIR
    hyperknob plot PROJECT --kind history|time|curves|importance|parallel|rungs|pareto --output FILE.png
    hyperknob worker module:objective --study NAME [--storage URL | --directory DIR] [--n-trials N]
                     [--n-workers N] [--timeout S]
    hyperknob worker script.py [--storage URL] [--n-workers N] [script options...]

``worker`` joins a study from any machine: with an importable objective ``module:function`` (a
function of ``hp`` or ``(hp, trial)``) it runs the plain search loop on the named study; with a
script it runs the script (a KerasTuner-style search) with the storage set for it, once per
worker. The study's algorithm, objective and seed come from the study itself.
"""

from __future__ import annotations

import argparse
import importlib
import os
import runpy
import sys
from collections.abc import Sequence
from typing import Any

from hyperknob._text import printable
from hyperknob.report.tables import display_cell
from hyperknob.report.terminal import print_rows as _print
from hyperknob.report.terminal import rows_table as _table

__all__ = ["main"]


def _load_objective(spec: str) -> Any:
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise SystemExit(f"hyperknob worker: {spec!r} is neither a script (.py) nor module:function.")
    sys.path.insert(0, os.getcwd())
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise SystemExit(f"hyperknob worker: module {module_name!r} has no {attr!r}.") from None


def _run_script(path: str, script_args: Sequence[str]) -> None:
    sys.argv = [path, *script_args]
    runpy.run_path(path, run_name="__main__")


def worker(args: argparse.Namespace) -> int:
    if args.storage:
        os.environ["HYPERKNOB_STORAGE"] = args.storage
    if args.target.endswith(".py"):
        if args.n_workers == 1:
            _run_script(args.target, args.script_args)
            return 0
        from hyperknob.study.parallel import run_workers

        run_workers([lambda: _run_script(args.target, args.script_args)] * args.n_workers)
        return 0
    if not args.study:
        raise SystemExit("hyperknob worker: --study NAME is needed with module:function.")
    from hyperknob.study.factory import load_study

    objective = _load_objective(args.target)
    study = load_study(args.directory, args.study, storage=args.storage)
    study.optimize(objective, n_trials=args.n_trials, timeout=args.timeout, n_workers=args.n_workers,
                   verbose=0 if args.quiet else 1)
    return 0


# --- reading studies ---------------------------------------------------------------------------------
def _split_project(args: argparse.Namespace) -> tuple[str, str]:
    """``runs/hello_world`` names directory ``runs`` and project ``hello_world``."""
    project = args.project.rstrip("/")
    if os.sep in project and args.directory == ".":
        return os.path.dirname(project), os.path.basename(project)
    return args.directory, project


def _open_study(args: argparse.Namespace) -> Any:
    from hyperknob.study.factory import load_study

    directory, project = _split_project(args)
    if args.storage is None and not os.environ.get("HYPERKNOB_STORAGE"):
        path = os.path.join(directory, project, "study.db")
        if not os.path.exists(path):
            found = _project_files(directory)
            known = ", ".join(sorted(found)) or "none"
            raise SystemExit(f"hyperknob: no study file at {path} (studies under {directory}: {known}).")
    from hyperknob.exceptions import HyperknobError

    try:
        return load_study(directory, project, storage=args.storage)
    except (ValueError, HyperknobError) as exc:
        raise SystemExit(f"hyperknob: {printable(exc)}") from None


def _project_files(directory: str) -> dict[str, str]:
    found = {}
    if os.path.isdir(directory):
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name, "study.db")
            if os.path.isfile(path):
                found[name] = path
    return found


def studies(args: argparse.Namespace) -> int:
    from hyperknob.storage import open_storage

    if args.storage or os.environ.get("HYPERKNOB_STORAGE"):
        records = open_storage(args.storage).list_studies()
        rows = [{"study": r.name, "algorithm": r.config.get("algorithm"), "max_trials": r.config.get("max_trials")}
                for r in records]
    else:
        rows = []
        for name, path in _project_files(args.directory).items():
            from hyperknob.storage.sql import SQLStorage

            try:
                records = SQLStorage(f"sqlite:///{os.path.abspath(path)}").list_studies()
            except Exception as exc:  # noqa: BLE001 - a foreign or newer file: say so, keep listing
                rows.append({"study": name, "algorithm": f"unreadable: {exc}", "max_trials": None})
                continue
            rows += [{"study": os.path.join(args.directory, name) if r.name == name else f"{name}:{r.name}",
                      "algorithm": r.config.get("algorithm"), "max_trials": r.config.get("max_trials")}
                     for r in records]
    _print(args, rows, _table(rows, "Studies"))
    return 0


def sources(args: argparse.Namespace) -> int:
    """The studies under a folder a warm start could draw on, mapped onto one study's space."""
    from hyperknob.study.factory import load_study
    from hyperknob.study.warm_start import WarmStart, resolve_sources

    space = None
    if args.target:
        target = os.path.abspath(args.target.rstrip("/"))
        space = load_study(os.path.dirname(target), os.path.basename(target)).space
    rows: list[dict[str, Any]] = []
    for name in _project_files(args.directory):
        folder = os.path.join(args.directory, name)
        if args.target and os.path.abspath(folder) == os.path.abspath(args.target):
            continue
        try:
            warm = WarmStart(resolve_sources([folder]))
        except Exception as exc:  # noqa: BLE001 - a foreign or damaged file: say so, keep listing
            rows.append({"source": folder, "trials": None, "uses": f"unreadable: {exc}", "dropped": "", "new": ""})
            continue
        own = space
        if own is None:  # no target: the source's own space, as it last stored it
            own = load_study(args.directory, name).space
        warm.observations(own, [], "min")
        (summary,) = warm.summaries
        rows.append({"source": folder, "trials": summary.trials, "uses": ", ".join(summary.used),
                     "dropped": ", ".join(summary.dropped), "new": ", ".join(summary.added)})
    title = f"Warm-start sources for {args.target}" if args.target else f"Warm-start sources under {args.directory}"
    _print(args, rows, _table(rows, title))
    return 0


def summary(args: argparse.Namespace) -> int:
    from hyperknob.report.tables import study_summary
    from hyperknob.study.warm_start import SourceSummary, describe_source

    study = _open_study(args)
    data = study_summary(study)
    rows = [{"": key.removesuffix("_s"), "value": display_cell("duration_s" if key.endswith("_time_s") else key, value)}
            for key, value in data.items() if key not in ("best", "warm_start")]
    rows += [{"": "warm start", "value": describe_source(SourceSummary(**s))} for s in data["warm_start"]]
    if study.is_pareto:  # the score is KerasTuner's sum there: show the front instead
        from hyperknob.report.pareto_view import summary_rows

        rows += [{"": key, "value": value} for key, value in summary_rows(study)]
    elif data["best"]:
        rows.append({"": "best", "value": f"trial {data['best']['trial_id']}: {data['best']['score']:.6g}"})
        rows += [{"": f"  {k}", "value": display_cell("", v)} for k, v in data["best"]["values"].items()]
    _print(args, data, _table(rows, f"Study {data['study']}"))
    return 0


def trials(args: argparse.Namespace) -> int:
    from hyperknob.report.tables import trial_rows

    study = _open_study(args)
    statuses = args.status.split(",") if args.status else None
    columns = args.columns.split(",") if args.columns else None
    try:
        rows = trial_rows(study, statuses=statuses, sort=args.sort, columns=columns)
        if columns is None and not args.json and rows:
            # A terminal gets what fits: the parameters, the score and how the trial ended.
            params = [c for c in rows[0] if c.startswith("param_")]
            compact = ["number", "status", "score", "duration_s", *params, "message"]
            rows = [{c: row[c] for c in compact} for row in rows]
            if study.is_pareto:  # each objective's value instead of KerasTuner's sum
                from hyperknob.report.pareto_view import objective_cells

                labels, cells = objective_cells(study)
                rows = [{"number": r["number"], "status": r["status"],
                         **(cells.get(r["number"]) or dict.fromkeys(labels)),
                         **{c: r[c] for c in compact[3:]}} for r in rows]
    except ValueError as exc:
        raise SystemExit(f"hyperknob: {printable(exc)}") from None
    if args.limit:
        rows = rows[: args.limit]
    _print(args, rows, _table(rows, f"Trials of {study.name}"))
    return 0


def best(args: argparse.Namespace) -> int:
    study = _open_study(args)
    top = study.get_best_trials(args.n)
    data = [{"trial_id": t.trial_id, "score": t.score, "values": dict(t.values)} for t in top]
    rows = [{"trial": t.trial_id, "score": t.score, **{f"param_{k}": v for k, v in t.values.items()}} for t in top]
    _print(args, data, _table(rows, f"Best of {study.name} ({study.objective.name}, {study.direction.value})"))
    return 0


def pareto(args: argparse.Namespace) -> int:
    from hyperknob.report.pareto_view import show_pareto

    if args.study and args.project and args.study != args.project:
        raise SystemExit(f"hyperknob pareto: name the study once (received {printable(args.project)!r} and "
                         f"--study {printable(args.study)!r}).")
    args.project = args.project or args.study
    if not args.project:
        raise SystemExit("hyperknob pareto: name the study: PROJECT (or directory/project), or --study NAME.")
    try:
        return show_pareto(_open_study(args), include_all=args.all, export=args.export, as_json=args.json)
    except OSError as exc:
        raise SystemExit(f"hyperknob: {printable(exc)}") from None


def export(args: argparse.Namespace) -> int:
    from hyperknob.report.tables import trial_rows

    study = _open_study(args)
    out = open(args.output, "w", newline="") if args.output else sys.stdout  # noqa: SIM115
    try:
        if args.format == "json":
            import json

            full = [
                {"number": t.number, "trial_id": t.trial_id, "status": t.status.value, "values": dict(t.values),
                 "score": t.score, "best_step": t.best_step, "message": t.message, "worker": t.worker,
                 "datetime_start": t.datetime_start, "datetime_complete": t.datetime_complete,
                 "metrics": {k: [[p.step, p.value] for p in v] for k, v in t.metrics.items()}}
                for t in study.get_trials()
            ]
            json.dump(full, out, indent=1)
            out.write("\n")
        else:
            import csv

            rows = trial_rows(study)
            writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["number"])
            writer.writeheader()
            writer.writerows(rows)
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


PLOTS = {
    "history": ("plot_optimization_history", {}),
    "time": ("plot_optimization_history", {"over": "time"}),
    "curves": ("plot_learning_curves", {}),
    "importance": ("plot_param_importances", {}),
    "parallel": ("plot_parallel_coordinates", {}),
    "rungs": ("plot_rungs", {}),
    "pareto": ("plot_pareto_front", {}),
}


def plot(args: argparse.Namespace) -> int:
    from hyperknob.report import plots

    study = _open_study(args)
    name, kwargs = PLOTS[args.kind]
    try:
        figure = getattr(plots, name)(study, **kwargs)
    except ValueError as exc:
        raise SystemExit(f"hyperknob: {printable(exc)}") from None
    figure.savefig(args.output, dpi=120)
    print(args.output)
    return 0


def report(args: argparse.Namespace) -> int:
    """Write the HTML report; with --watch, rewrite it every N seconds (the page reloads itself)
    until Ctrl-C. No server is started: the file is opened directly."""
    import time

    from hyperknob.report.html import write_report

    study = _open_study(args)
    write_report(study, args.output, refresh_seconds=args.watch)
    print(args.output)
    if args.watch:
        try:
            while True:
                time.sleep(args.watch)
                write_report(study, args.output, refresh_seconds=args.watch)
        except KeyboardInterrupt:
            return 0
    return 0


def tensorboard(args: argparse.Namespace) -> int:
    from hyperknob.report.tensorboard import export_tensorboard

    runs = export_tensorboard(_open_study(args), args.logdir)
    print(f"{len(runs)} runs in {args.logdir}: tensorboard --logdir {args.logdir}")
    return 0


def _reading(parser: argparse.ArgumentParser, json_flag: bool = True) -> None:
    parser.add_argument("project", help="the project (a study's name), or directory/project")
    parser.add_argument("--directory", default=".", help="where the project's folder is (default: .)")
    parser.add_argument("--storage", help="a database URL instead of the project's SQLite file")
    if json_flag:
        parser.add_argument("--json", action="store_true", help="JSON for scripts instead of a table")


# --- damaged studies ----------------------------------------------------------------------------
def _study_file(args: argparse.Namespace) -> str:
    directory, project = _split_project(args)
    return os.path.join(directory, project, "study.db")


def _say_report(report: Any) -> None:
    for name, count in report.studies.items():
        print(printable(f"study {name!r}: {count} readable trials"))
    for problem in report.problems:
        print(printable(f"problem: {problem}"))
    for line in report.unreadable:
        print(printable(f"unreadable: {line}"))


def check(args: argparse.Namespace) -> int:
    """Read a study file without writing to it: integrity, schema, every trial."""
    from hyperknob.storage.sqlite_repair import check_study_file

    report = check_study_file(_study_file(args))
    _say_report(report)
    print("ok" if report.ok else f"damaged: see above; `hyperknob recover {args.project} --to NEW` copies what reads")
    return 0 if report.ok else 1


def recover(args: argparse.Namespace) -> int:
    """Copy every readable trial of a damaged study into a new project folder."""
    from hyperknob.storage.sqlite_repair import recover_study_file

    report = recover_study_file(_study_file(args), args.to)
    _say_report(report)
    print(printable(f"recovered {sum(report.studies.values())} trials into {os.path.join(args.to, 'study.db')}"))
    return 0


def _lazy(module: str) -> Any:
    """A command whose code (and optional dependencies) loads only when it runs: ``module.run(args,
    open_study)`` with this module's way of opening a project's study."""

    def run(args: argparse.Namespace) -> int:
        return int(importlib.import_module(module).run(args, _open_study) or 0)

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hyperknob", description="hyperknob: hyperparameter tuning.")
    commands = parser.add_subparsers(dest="command", required=True)
    s = commands.add_parser("studies", help="list the studies under a directory or in a database")
    s.add_argument("--directory", default=".")
    s.add_argument("--storage")
    s.add_argument("--json", action="store_true")
    s.set_defaults(run=studies)
    ws = commands.add_parser("sources", help="studies under a folder that a warm start could draw on")
    ws.add_argument("directory", help="the folder holding project folders (each with a study.db)")
    ws.add_argument("--for", dest="target", help="a project folder: show what its space would use of each")
    ws.add_argument("--json", action="store_true")
    ws.set_defaults(run=sources)
    m = commands.add_parser("summary", help="counts by status, time spent, the best so far")
    _reading(m)
    m.set_defaults(run=summary)
    t = commands.add_parser("trials", help="the trials as a table")
    _reading(t)
    t.add_argument("--status", help="only these statuses, e.g. COMPLETED,FAILED")
    t.add_argument("--sort", choices=["number", "score"], default="number")
    t.add_argument("--columns", help="comma-separated columns (e.g. number,score,param_units)")
    t.add_argument("--limit", type=int)
    t.set_defaults(run=trials)
    b = commands.add_parser("best", help="the best trials with their values")
    _reading(b)
    b.add_argument("-n", type=int, default=1)
    b.set_defaults(run=best)
    pf = commands.add_parser("pareto", help="the Pareto front: each objective's value and the parameters")
    pf.add_argument("project", nargs="?", help="the project (a study's name), or directory/project")
    pf.add_argument("--study", help="the study's name (the same as PROJECT; handy with --storage)")
    pf.add_argument("--directory", default=".", help="where the project's folder is (default: .)")
    pf.add_argument("--storage", help="a database URL instead of the project's SQLite file")
    pf.add_argument("--json", action="store_true", help="JSON for scripts instead of a table")
    pf.add_argument("--all", action="store_true", help="every completed trial, with its front (1 = the Pareto front)")
    pf.add_argument("--export", metavar="FILE",
                    help="also write the front (with --all: every trial) to FILE.csv or FILE.json")
    pf.set_defaults(run=pareto)
    e = commands.add_parser("export", help="all trials as CSV or JSON")
    _reading(e, json_flag=False)
    e.add_argument("--format", choices=["csv", "json"], default="csv")
    e.add_argument("--output", "-o", help="file to write (default: standard output)")
    e.set_defaults(run=export)
    r = commands.add_parser("report", help="one self-contained HTML file: summary, plots, sortable trials")
    _reading(r, json_flag=False)
    r.add_argument("--output", "-o", default="report.html")
    r.add_argument("--watch", type=float, default=None, metavar="SECONDS",
                   help="rewrite the report every SECONDS while a search runs (the page reloads itself)")
    r.set_defaults(run=report)
    im = commands.add_parser("importance", help="which hyperparameters matter, with intervals, and what to change next")
    _reading(im)
    im.add_argument("--method", choices=["fanova", "ped-anova"], default="fanova",
                    help="fANOVA (main effects and pairs) or PED-ANOVA (what the top trials share)")
    im.add_argument("--seed", type=int, default=0)
    im.set_defaults(run=_lazy("hyperknob.report.importance_command"))
    tb = commands.add_parser("tensorboard", help="TensorBoard HParams: one run per trial (any backend)")
    _reading(tb, json_flag=False)
    tb.add_argument("--logdir", required=True)
    tb.set_defaults(run=tensorboard)
    p = commands.add_parser("plot", help="a plot of the study, saved to a file (PNG, SVG, PDF)")
    _reading(p, json_flag=False)
    p.add_argument("--kind", choices=sorted(PLOTS), default="history")
    p.add_argument("--output", "-o", required=True, help="the image file to write")
    p.set_defaults(run=plot)
    w = commands.add_parser("worker", help="join a study and run its trials (from any machine)")
    w.add_argument("target", help="module:function (an objective) or script.py (a search script)")
    w.add_argument("--study", help="the study's name (project_name); needed with module:function")
    w.add_argument("--storage", help="database URL (default: $HYPERKNOB_STORAGE, else the SQLite file in --directory)")
    w.add_argument("--directory", default=".", help="where the project's SQLite study lives (default: .)")
    w.add_argument("--n-trials", type=int, default=None,
                   help="trials this command runs (default: until the study's budget)")
    w.add_argument("--n-workers", type=int, default=1, help="worker processes on this machine")
    w.add_argument("--timeout", type=float, default=None, help="stop starting trials after this many seconds")
    w.add_argument("--quiet", action="store_true")
    w.set_defaults(run=worker)
    c = commands.add_parser("check", help="read a study file without writing to it: integrity, schema, every trial")
    c.add_argument("project")
    c.add_argument("--directory", default=".")
    c.set_defaults(run=check)
    rc = commands.add_parser("recover", help="copy every readable trial of a damaged study into a new folder")
    rc.add_argument("project")
    rc.add_argument("--to", required=True, help="the new project folder (must not hold a study.db)")
    rc.add_argument("--directory", default=".")
    rc.set_defaults(run=recover)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    # Options this command does not know belong to the script it runs.
    args.script_args = rest
    if rest and not getattr(args, "target", "").endswith(".py"):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        return int(args.run(args) or 0)
    except BrokenPipeError:  # `hyperknob trials ... | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
