# revsgd in JupyterLab, with the GoNB kernel, the XLA PJRT plugins and the notebooks.
#
#   CPU:  docker build -t revsgd . && docker run --rm -p 8888:8888 revsgd
#   GPU:  docker build --build-arg GPU=cuda -t revsgd-gpu . && docker run --rm --gpus all -p 8888:8888 revsgd-gpu
#
# Then open the URL JupyterLab prints. The versions below are pinned; a test (internal/repotest) checks that they
# equal those of scripts/setup.sh and go.mod. JupyterLab and the Python tools come from scripts/setup.sh, with its
# pins.
FROM debian:bookworm-slim

ARG GO_VERSION=1.26.8
ARG GONB_VERSION=v0.11.4
ARG GOIMPORTS_VERSION=v0.52.0
ARG GOPLS_VERSION=v0.23.0
# GPU=cuda also installs the CUDA PJRT plugin (JAX's, at the version in pkg/backend.CUDAPluginVersion).
ARG GPU=none

ENV DEBIAN_FRONTEND=noninteractive \
    PATH=/revsgd/tools/jupyter/bin:/root/go/bin:/usr/local/go/bin:$PATH \
    REVSGD_DATA=/data

# Go, with cgo (gcc) for the XLA backend.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gcc git libc6-dev python3-venv \
 && curl -fsSL "https://go.dev/dl/go${GO_VERSION}.linux-amd64.tar.gz" | tar -C /usr/local -xz \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /revsgd
COPY . /revsgd

# The same setup as on a Debian machine: JupyterLab, nbconvert and nbclient at the pinned versions in
# tools/jupyter, numpy and pandas, FashionMNIST, GoNB with goimports and gopls at the pinned versions, the kernel
# registration, the Go modules, and XLA's CPU plugin (the wheel pinned with its hash in pkg/backend.CPUPlugin).
RUN bash scripts/setup.sh && rm -rf /var/lib/apt/lists/* /root/.cache/pip

# The CUDA PJRT plugin with GPU=cuda, and CIFAR-10/100 into the data directory.
RUN if [ "$GPU" = "cuda" ]; then go run ./cmd/revsgd install-xla -cuda; fi \
 && datasets/fetch.sh cifar10 cifar100

# The revsgd command on the PATH, for batch jobs (deploy/kubernetes).
RUN go build -o /usr/local/bin/revsgd ./cmd/revsgd

EXPOSE 8888
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--port=8888", "--no-browser", "--allow-root", "--notebook-dir=/revsgd/notebooks"]
