#!/usr/bin/env bash
# 20 runs in a row of every timing-dependent test, both cores kept busy by two spinning loops
# (issue 22, item 5). Usage: bash tests/stress/timing_under_load.sh; PYTHON chooses the
# interpreter (default python3). Prints one line a run and "passed N/20".
cd "$(dirname "$0")/../.."
logs=$(mktemp -d)
TESTS=(
  "tests/unit/util/test_file_writer.py::test_a_signal_mid_write_leaves_nothing"
  "tests/unit/util/test_file_writer.py::test_a_fifo_is_streamed_to_its_reader_and_stays_a_fifo"
  "tests/unit/util/test_file_writer.py::test_the_cli_writes_through_a_symlink_and_into_a_fifo"
  "tests/unit/nanobragg/test_reference.py"
  "tests/unit/cli/test_main.py"
  "tests/unit/cli/test_progress.py"
  "tests/unit/testing/nanobragg/mutation/test_runner.py::test_a_hanging_mutant_times_out"
)
python3 -c 'while True: pass' & B1=$!
python3 -c 'while True: pass' & B2=$!
pass=0
for i in $(seq 1 20); do
  # A background job of this non-interactive shell: pytest and its children start with SIGINT
  # ignored, the condition under which the SIGINT file-writer test used to fail.
  "${PYTHON:-python3}" -m pytest -q -p no:cacheprovider "${TESTS[@]}" > "$logs"/run_$i.log 2>&1 &
  job=$!
  [ "$i" = 1 ] && grep SigIgn /proc/$job/status
  if wait $job; then
    pass=$((pass+1)); echo "run $i: $(tail -1 "$logs"/run_$i.log)"
  else
    echo "run $i: FAILED: $(tail -1 "$logs"/run_$i.log)"
  fi
done
kill $B1 $B2
echo "passed $pass/20"
[ "$pass" = 20 ]
