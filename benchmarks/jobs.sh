# At most JOBS commands at once, for the benchmark scripts (source it; bash >= 5.1).
#   spawn <log> <command...>   run in the background, appending to <log>; waits first when JOBS are running
#   drain                      wait for every spawned command
# A command that fails stops the script, naming its log.
running=0
declare -A JOB_LOGS=()
_reap() {
  local pid
  if ! wait -n -p pid; then echo "a job failed: see ${JOB_LOGS[$pid]:-its log}" >&2; exit 1; fi
  unset "JOB_LOGS[$pid]"
  running=$((running - 1))
}
spawn() {
  local log=$1; shift
  "$@" >> "$log" 2>&1 &
  JOB_LOGS[$!]=$log
  running=$((running + 1))
  if [ "$running" -ge "${JOBS:-1}" ]; then _reap; fi
}
drain() {
  while [ "$running" -gt 0 ]; do _reap; done
}
