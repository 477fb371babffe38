# Shared by the scripts: paths and the headless notebook runner. Source it; do not run it.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$root/tools/jupyter/bin:$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin:/usr/local/go/bin:$PATH"

# Go's SIMD experiment turns on the pure-Go backend's AVX2/AVX-512 matrix kernels (2–3× faster training; the
# backend checks the CPU's features at run time). Notebooks inherit it, since GoNB builds with this environment.
if [[ $(uname -m) == x86_64 ]]; then
  export GOEXPERIMENT=${GOEXPERIMENT:-simd}
fi

# NOTEBOOK_TIMEOUT is the most seconds one cell may run (REVSGD_CELL_TIMEOUT overrides it), so that a stalled
# cell fails the run in bounded time.
NOTEBOOK_TIMEOUT=${REVSGD_CELL_TIMEOUT:-1800}

# notebooks_in_order lists the notebooks, convergence-points.ipynb last: it analyses the runs the others store.
notebooks_in_order() {
  ls "$root"/notebooks/*.ipynb | grep -v '/convergence-points.ipynb$'
  echo "$root/notebooks/convergence-points.ipynb"
}

# run_notebooks OUTDIR NOTEBOOK... executes each notebook headlessly into OUTDIR, with the environment the caller
# set (REVSGD_SCALE, REVSGD_RESULTS), then checks that no cell failed and that each shows a figure. Any failing
# cell fails the run. The notebooks run in two lanes at once. Notebooks that share runs go in the same lane (two processes must not compute the same run):
# cifar10-resnet18 and adamw share warm-up runs; fashion-mlp, baselines and stopping share runs, and so do
# regression-mlp and stopping; lr-sweep, intermittent and late-switch. The lanes are balanced by the times measured
# in a fresh clone's test run on two cores (where one lane had cifar10-vgg and quadratic besides the CIFAR-10
# ResNet figures and the variants it took 1 467 s, the other 1 153 s): the first lane has adamw, cifar10-resnet18
# and the small figures that share runs or stand alone (about 1 270 s), the second baselines, cifar100-resnet,
# cifar10-vgg, quadratic and the FashionMNIST MLP figures that share runs with baselines (about 1 350 s). One
# XLA process keeps about 1.6 of the two cores busy, so each lane runs slower beside the other than alone (adamw:
# 315 s alone, 719 s in its lane). convergence-points, which analyses what the others stored, runs after both.
run_notebooks() {
  local out=$1; shift
  mkdir -p "$out"
  local first=() second=() last=() nb
  for nb in "$@"; do
    case $(basename "$nb") in
      convergence-points.ipynb) last+=("$nb") ;;
      baselines.ipynb|cifar100-*|cifar10-vgg.ipynb|fashion-mlp.ipynb|quadratic.ipynb|regression-mlp.ipynb|stopping.ipynb) second+=("$nb") ;;
      *) first+=("$nb") ;;
    esac
  done
  local failed=0 lane1 lane2
  run_lane "$out" "${first[@]}" & lane1=$!
  run_lane "$out" "${second[@]}" & lane2=$!
  wait "$lane1" || failed=1
  wait "$lane2" || failed=1
  run_lane "$out" "${last[@]}" || failed=1
  python3 "$root/scripts/check-notebook.py" "$out"/*.ipynb || failed=1
  return $failed
}

# run_lane OUTDIR NOTEBOOK... executes the notebooks one after the other; it fails if any fails.
run_lane() {
  local out=$1; shift
  local nb failed=0
  for nb in "$@"; do
    local name log start
    name=$(basename "$nb")
    log="$out/${name%.ipynb}.log"
    start=$(date +%s)
    if jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout="$NOTEBOOK_TIMEOUT" \
        --output-dir "$out" "$nb" >"$log" 2>&1; then
      echo "notebook $name executed in $(( $(date +%s) - start ))s"
    else
      echo "notebook $name FAILED (log: $log):"; tail -n 30 "$log"; failed=1
    fi
  done
  return $failed
}

# in_memory DIR makes DIR (which must not exist) a link to a fresh directory in /dev/shm, when that is a writable
# tmpfs with at least 4 GiB free, and prints the directory; else it makes DIR an ordinary directory and prints
# nothing. For a test's run store: the quick notebooks store about 190 000 files (1.5 GB), and creating and
# syncing them on this project's virtual disk cost minutes (revsgd figure baselines: 322 s with its store on disk,
# 102 s in memory, sys time 117 s against 21). The caller removes the printed directory when done.
in_memory() {
  local dir=$1 free shm
  free=$(df -Pk /dev/shm 2>/dev/null | awk 'NR==2 && $1=="tmpfs" {print $4}')
  if [[ -n "$free" && $free -ge $((4 << 20)) && -w /dev/shm ]] && shm=$(mktemp -d /dev/shm/revsgd-test.XXXXXX); then
    mkdir -p "$(dirname "$dir")"
    ln -s "$shm" "$dir"
    echo "$shm"
  else
    mkdir -p "$dir"
  fi
}

# Pinned tools from the npm registry, installed into tools/node (git-ignored) with the machine's Node.js.
PLAYWRIGHT_VERSION=1.65.1
DOCKERFILELINT_VERSION=1.8.0

# browser_tools installs what drives a real browser, when missing: Debian's Chromium, and node_tools.
browser_tools() {
  if ! command -v chromium >/dev/null; then
    echo "installing Debian's chromium"
    local sudo_cmd=(); [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null
  fi
  node_tools
}

# node_tools installs the pinned npm tools when missing or at another version.
node_tools() {
  local want="playwright-core@$PLAYWRIGHT_VERSION dockerfilelint@$DOCKERFILELINT_VERSION" have=""
  if [[ -d "$root/tools/node/node_modules" ]]; then
    have="playwright-core@$(node -p "require('$root/tools/node/node_modules/playwright-core/package.json').version" 2>/dev/null) dockerfilelint@$(node -p "require('$root/tools/node/node_modules/dockerfilelint/package.json').version" 2>/dev/null)"
  fi
  if [[ "$have" != "$want" ]]; then
    echo "installing $want from the npm registry into tools/node"
    mkdir -p "$root/tools/node"
    npm install --silent --no-save --no-package-lock --prefix "$root/tools/node" $want >/dev/null
  fi
}
