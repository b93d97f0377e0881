"""The benchmark scripts' shared shell helpers (benchmarks/jobs.sh, benchmarks/table_eval.sh), run by bash."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_jobs(tmp_path: Path, body: str) -> subprocess.CompletedProcess:
    script = tmp_path / "jobs_test.sh"
    script.write_text(f"set -euo pipefail\nJOBS=2\nsource {ROOT / 'benchmarks' / 'jobs.sh'}\n{body}\n")
    return subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=60)


def test_spawn_runs_at_most_jobs_at_once_and_drain_waits_for_all(tmp_path):
    # each job appends its start and end to one file; with JOBS=2 a third job starts only after one ended
    log = tmp_path / "order"
    body = "\n".join(f'spawn {tmp_path}/{i}.log bash -c "echo start{i} >> {log}; sleep 0.3; echo end{i} >> {log}"'
                     for i in range(3)) + f"\ndrain\necho done >> {log}"
    out = run_jobs(tmp_path, body)
    assert out.returncode == 0, out.stderr
    order = log.read_text().split()
    assert order[-1] == "done" and sorted(order[:-1]) == sorted(f"{e}{i}" for e in ("start", "end") for i in range(3))
    assert order.index("start2") > min(order.index("end0"), order.index("end1"))


def test_a_failed_job_stops_the_script_and_names_its_log(tmp_path):
    out = run_jobs(tmp_path, f'spawn {tmp_path}/ok.log true\nspawn {tmp_path}/bad.log bash -c "echo boom; exit 3"\n'
                             f"drain\necho not reached")
    assert out.returncode == 1 and "not reached" not in out.stdout
    assert f"a job failed: see {tmp_path}/bad.log" in out.stderr
    assert (tmp_path / "bad.log").read_text() == "boom\n"


def run_table_eval(tmp_path: Path, body: str) -> subprocess.CompletedProcess:
    script = tmp_path / "table_eval_test.sh"
    script.write_text(f"set -euo pipefail\nPY={sys.executable}\nsource {ROOT / 'benchmarks' / 'table_eval.sh'}\n{body}\n")
    return subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=60)


def eval_is_current(tmp_path: Path, eval_dir: Path, runs: list[Path]) -> bool:
    out = run_table_eval(tmp_path, f"if eval_is_current {eval_dir} {','.join(map(str, runs))}; "
                                   "then echo current; else echo stale; fi")
    assert out.returncode == 0, out.stderr
    return out.stdout.strip() == "current"


def test_an_evaluation_is_kept_only_for_the_same_runs_none_trained_after_it(tmp_path):
    runs = [tmp_path / name for name in ("teacher", "dr", "robust")]
    for i, run in enumerate(runs):
        run.mkdir()
        (run / "summary.json").write_text("{}")
        os.utime(run / "summary.json", (1000 + i, 1000 + i))
    ev = tmp_path / "eval"
    assert not eval_is_current(tmp_path, ev, runs[:2])  # never evaluated
    ev.mkdir()
    (ev / "config.yaml").write_text(f"runs: [{runs[0]}, {runs[1]}]\n")
    (ev / "report.json").write_text("{}")
    os.utime(ev / "report.json", (2000, 2000))
    assert eval_is_current(tmp_path, ev, runs[:2])
    assert not eval_is_current(tmp_path, ev, runs)  # a run added (SKIP or RSL_RL changed)
    assert not eval_is_current(tmp_path, ev, runs[:1])  # a run left out
    assert not eval_is_current(tmp_path, ev, runs[1::-1])  # another order: another report
    os.utime(runs[1] / "summary.json", (3000, 3000))  # dr trained again after the evaluation
    assert not eval_is_current(tmp_path, ev, runs[:2])
    os.utime(runs[1] / "summary.json", (1001, 1001))
    (runs[0] / "summary.json").unlink()  # a run stopped midway: nothing to keep
    assert not eval_is_current(tmp_path, ev, runs[:2])


def merge_references(tmp_path: Path, evals: list[Path]) -> subprocess.CompletedProcess:
    return run_table_eval(tmp_path, f"refs=$(merge_references {' '.join(map(str, evals))})\necho \"[$refs]\"")


def test_a_merged_table_keeps_the_pairings_any_kept_seed_was_evaluated_with(tmp_path):
    # a table grown a seed at a time: seed 0 was evaluated beside rsl_rl's pipeline, seeds 1 and 2 without it
    evals = [tmp_path / f"s{s}" for s in range(3)]
    for s, ev in enumerate(evals):
        ev.mkdir()
        refs = "reference: rsl_rl_student\nteacher_reference: rsl_rl_teacher\n" if s == 0 else \
            "reference: null\nteacher_reference: null\n"
        (ev / "config.yaml").write_text(f"seed: 2026\n{refs}")
    out = merge_references(tmp_path, evals[1:])
    assert out.returncode == 0 and out.stdout == "[]\n", out.stderr
    out = merge_references(tmp_path, evals)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "[--reference rsl_rl_student --teacher-reference rsl_rl_teacher]\n"
    (evals[2] / "config.yaml").write_text("reference: dagger\nteacher_reference: null\n")
    out = merge_references(tmp_path, evals)  # two references: no table can pair with both
    assert out.returncode == 1 and out.stdout == ""
    assert "different references" in out.stderr and "rsl_rl_student" in out.stderr and "dagger" in out.stderr
