# revsgd in JupyterLab, with the GoNB kernel, the XLA PJRT plugins and the notebooks.
#
#   CPU:  docker build -t revsgd . && docker run --rm -p 8888:8888 revsgd
#   GPU:  docker build --build-arg GPU=cuda -t revsgd-gpu . && docker run --rm --gpus all -p 8888:8888 revsgd-gpu
#
# Then open the URL JupyterLab prints. The versions below are pinned; a test (internal/repotest) checks that they
# equal those of scripts/setup.sh and go.mod.
FROM debian:bookworm-slim

ARG GO_VERSION=1.26.8
ARG GONB_VERSION=v0.11.4
ARG GOIMPORTS_VERSION=v0.52.0
ARG GOPLS_VERSION=v0.23.0
ARG JUPYTERLAB_VERSION=4.2.5
# GPU=cuda also installs the CUDA PJRT plugin (JAX's, at the version in pkg/backend.CUDAPluginVersion).
ARG GPU=none

ENV DEBIAN_FRONTEND=noninteractive \
    PATH=/root/go/bin:/usr/local/go/bin:/opt/jupyterlab/bin:$PATH \
    REVSGD_DATA=/data

# Go, with cgo (gcc) for the XLA backend.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gcc git libc6-dev python3-venv \
 && curl -fsSL "https://go.dev/dl/go${GO_VERSION}.linux-amd64.tar.gz" | tar -C /usr/local -xz \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /revsgd
COPY . /revsgd

# The same setup as on a Debian machine: Debian's Jupyter packages, numpy and pandas, FashionMNIST, GoNB with
# goimports and gopls at the pinned versions, the kernel registration, the Go modules.
RUN bash scripts/setup.sh && rm -rf /var/lib/apt/lists/*

# JupyterLab itself (Debian 12 has only the classic notebook), pinned, in its own environment.
RUN python3 -m venv /opt/jupyterlab \
 && /opt/jupyterlab/bin/pip install --no-cache-dir "jupyterlab==${JUPYTERLAB_VERSION}" \
 && gonb --install

# The XLA PJRT plugins (CPU; CUDA with GPU=cuda) and CIFAR-10/100 into the data directory.
RUN if [ "$GPU" = "cuda" ]; then go run ./cmd/revsgd install-xla -cuda; else go run ./cmd/revsgd install-xla; fi \
 && datasets/fetch.sh cifar10 cifar100

EXPOSE 8888
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--port=8888", "--no-browser", "--allow-root", "--notebook-dir=/revsgd/notebooks"]
