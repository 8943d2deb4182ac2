#!/usr/bin/env bash
# Issue 23's device check, one script for one GPU, under 5 minutes: every CUDA test
# (tests/cuda, marker `cuda`) and `braggcheck bench --device cuda` on the GPU cases.
# Results go to $OUT (the device tool's fetch folder) or reports/cuda_checks/:
#   device.txt       torch, CUDA, GPU (and nvidia-smi)
#   cuda_tests.txt   pytest's output (+ cuda_tests.xml, JUnit)
#   bench_cuda.md    the bench table (+ bench_cuda.json, bench_cuda.txt)
# The C program is timed too when $NANOBRAGG_REFERENCE names it, or when a nanoBragg.c is
# found (shared/reference/ or ../shared/reference/) and gcc can build it here.
# Exit status: pytest's, else the bench's; 2 when there is no CUDA device.
set -u
cd "$(dirname "$0")/../.."
OUT_DIR="${OUT:-reports/cuda_checks}"
PY="${PYTHON:-python3}"  # needs torch with CUDA, numpy, hypothesis, pytest
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"  # works without `pip install -e .`

if ! "$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "run_cuda_checks.sh: CUDA is not available on this machine" >&2
    exit 2
fi
mkdir -p "$OUT_DIR"
{
    "$PY" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, \
torch.cuda.get_device_name(), f'{torch.cuda.mem_get_info()[1] / 2**30:.0f} GiB')"
    nvidia-smi 2>&1 || true
} > "$OUT_DIR/device.txt"
head -1 "$OUT_DIR/device.txt"

if [ -z "${NANOBRAGG_REFERENCE:-}" ]; then
    for source in shared/reference/nanoBragg.c ../shared/reference/nanoBragg.c; do
        if [ -f "$source" ] && command -v gcc > /dev/null; then
            if gcc -O3 -fopenmp -o /tmp/nanoBragg_cuda_checks "$source" -lm 2> /dev/null; then
                export NANOBRAGG_REFERENCE=/tmp/nanoBragg_cuda_checks
            fi
            break
        fi
    done
fi
echo "C program: ${NANOBRAGG_REFERENCE:-none (set NANOBRAGG_REFERENCE to time it)}"

start=$SECONDS
timeout 150 "$PY" -m pytest tests/cuda -p no:cacheprovider -q -rfE --durations=15 \
    --junitxml="$OUT_DIR/cuda_tests.xml" 2>&1 | tee "$OUT_DIR/cuda_tests.txt" | tail -25
tests_rc=${PIPESTATUS[0]}
echo "tests: exit $tests_rc after $((SECONDS - start)) s"

# The issue's image (1024^2, N=5, oversample 2) and its 2048^2 and 4096^2 sizes in float32
# eager; the issue's image compiled (first call = compile time) and in float64.
start=$SECONDS
bench() {  # name, seconds, bench options...
    local name=$1 limit=$2
    shift 2
    timeout "$limit" "$PY" -m braggcheck bench --device cuda --repeat 10 "$@" \
        --markdown "$OUT_DIR/$name.md" --json "$OUT_DIR/$name.json" 2>&1 \
        | tee "$OUT_DIR/$name.txt"
    return "${PIPESTATUS[0]}"
}
bench bench_cuda 60 --dtype float32 --case gpu1024 --case gpu2048 --case gpu4096
bench_rc=$?
bench bench_cuda_compiled 45 --dtype float32 --case gpu1024 --compile on || bench_rc=$?
bench bench_cuda_float64 25 --dtype float64 --case gpu1024 || bench_rc=$?
echo "bench: exit $bench_rc after $((SECONDS - start)) s"

[ "$tests_rc" -ne 0 ] && exit "$tests_rc"
exit "$bench_rc"
