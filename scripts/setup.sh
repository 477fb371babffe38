#!/usr/bin/env bash
# Sets up everything revsgd needs on a fresh Debian machine: JupyterLab with nbconvert and nbclient (from PyPI at
# pinned versions, in the virtual environment tools/jupyter: the one Jupyter of the tests, the browser test and
# interactive use), numpy, pandas and FashionMNIST (Debian packages), GoNB with goimports and gopls at pinned
# versions, the GoNB kernel registration, and XLA's CPU plugin (revsgd install-xla: a wheel pinned with its hash
# in pkg/backend.CPUPlugin, through tools/jupyter's pip, into ~/.local/lib/go-xla, where revsgd finds it).
# Idempotent: a second run only checks.
#
# Usage: scripts/setup.sh [--tools]
#   --tools  everything but XLA's plugin and the closing check, from this script, go.mod and go.sum alone: the
#            Dockerfile's first layer, which a change of the sources then leaves in the build cache.
set -euo pipefail
tools_only=
case ${1:-} in
  --tools) tools_only=1 ;;
  "") ;;
  *) echo "setup: unknown argument $1 (usage: scripts/setup.sh [--tools])" >&2; exit 2 ;;
esac

# Pinned versions. The Dockerfile and go.mod use the same ones (a test checks that they agree).
GONB_VERSION=v0.11.4
GOIMPORTS_VERSION=v0.52.0   # golang.org/x/tools
GOPLS_VERSION=v0.23.0       # v0.24 needs Go 1.27
GO_MIN_VERSION=1.26
JUPYTERLAB_VERSION=4.2.5
NBCONVERT_VERSION=7.16.4
NBCLIENT_VERSION=0.10.0

here=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin:/usr/local/go/bin:$PATH"

say() { printf 'setup: %s\n' "$*"; }

if ! command -v go >/dev/null; then
  say "Go is not installed. Install Go ${GO_MIN_VERSION} or newer (see README), then run this script again."
  exit 1
fi

# Debian packages: venv (for JupyterLab's environment),
debs=(python3-venv
      python3-numpy python3-pandas   # numpy and pandas: the run store is tested against them
      dataset-fashion-mnist)         # FashionMNIST, in /usr/share/datasets/fashion-mnist
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  sudo_cmd=(); [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# JupyterLab, nbconvert (headless execution) and nbclient, pinned, in tools/jupyter (git-ignored).
venv="$here/tools/jupyter"
want_py="jupyterlab==$JUPYTERLAB_VERSION nbconvert==$NBCONVERT_VERSION nbclient==$NBCLIENT_VERSION"
if [[ ! -x "$venv/bin/jupyter" || "$(cat "$venv/.pins" 2>/dev/null)" != "$want_py" ]]; then
  say "installing $want_py into tools/jupyter"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check $want_py
  echo "$want_py" > "$venv/.pins"
fi
# Notebooks render every cell (no windowing): what a reader scrolls through, and what the browser test checks.
mkdir -p "$venv/share/jupyter/lab/settings"
# No news pop-up (nothing is fetched from the network).
echo '{"@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
 "@jupyterlab/apputils-extension:notification": {"fetchNews": "false"}}' > "$venv/share/jupyter/lab/settings/overrides.json"
export PATH="$venv/bin:$PATH"

# GoNB and its tools. The module proxy serves exact versions only, so GoNB is installed from a scratch module.
gobin=$(go env GOPATH)/bin
installed_version() { go version -m "$1" 2>/dev/null | awk '$1=="mod"{print $3; exit}'; }
if [[ $(installed_version "$gobin/gonb") != "$GONB_VERSION" ]]; then
  say "installing GoNB $GONB_VERSION"
  scratch=$(mktemp -d)
  (cd "$scratch" && go mod init gonb-install >/dev/null 2>&1 &&
    go get "github.com/janpfeifer/gonb@$GONB_VERSION" >/dev/null 2>&1 &&
    go install github.com/janpfeifer/gonb)
  rm -rf "$scratch"
fi
if [[ $(installed_version "$gobin/goimports") != "$GOIMPORTS_VERSION" ]]; then
  say "installing goimports $GOIMPORTS_VERSION"
  go install "golang.org/x/tools/cmd/goimports@$GOIMPORTS_VERSION"
fi
if [[ $(installed_version "$gobin/gopls") != "$GOPLS_VERSION" ]]; then
  say "installing gopls $GOPLS_VERSION"
  go install "golang.org/x/tools/gopls@$GOPLS_VERSION"
fi

# Kernel registration: gonb --install (re)writes the kernel spec for the current user, pointing at this gonb.
gonb --install >/dev/null 2>&1 || { say "gonb --install failed"; gonb --install; exit 1; }

# The library's own dependencies, so that notebooks compile offline afterwards.
(cd "$here" && go mod download)
if [[ -n $tools_only ]]; then
  say "tools ready: $(go version | awk '{print $3}'), GoNB $GONB_VERSION, JupyterLab $("$venv/bin/jupyter" lab --version 2>/dev/null)"
  exit 0
fi

# XLA's CPU plugin (needs cgo: gcc). Without XLA_INSTALL_PATH it goes to ~/.local/lib/go-xla.
(cd "$here" && REVSGD_PIP="$venv/bin/pip" go run ./cmd/revsgd install-xla ${XLA_INSTALL_PATH:+-path "$XLA_INSTALL_PATH"})

say "ready: $(go version | awk '{print $3}'), GoNB $GONB_VERSION, JupyterLab $("$venv/bin/jupyter" lab --version 2>/dev/null), nbconvert $("$venv/bin/jupyter" nbconvert --version 2>/dev/null), $(cd "$here" && go run ./cmd/revsgd backend 2>&1 >/dev/null)"
