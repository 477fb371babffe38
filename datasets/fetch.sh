#!/usr/bin/env bash
# Downloads data sets into the data directory ($REVSGD_DATA, or ~/.cache/revsgd/datasets), checking their MD5.
# Usage: datasets/fetch.sh fashion-mnist|cifar10|cifar100 ...
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./cmd/revsgd fetch "$@"
