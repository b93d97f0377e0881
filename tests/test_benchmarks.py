"""The benchmark scripts' shared shell helpers (benchmarks/jobs.sh), run by bash."""
import subprocess
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
