# revsgd in JupyterLab, with the GoNB kernel, the XLA PJRT plugins and the notebooks.
#
#   CPU:  docker build -t revsgd . && docker run --rm -p 8888:8888 revsgd
#   GPU:  docker build --build-arg GPU=cuda -t revsgd-gpu . && docker run --rm --gpus all -p 8888:8888 revsgd-gpu
#
# Then open the URL JupyterLab prints. The versions below are pinned; a test (internal/repotest) checks that they
# equal those of scripts/setup.sh and go.mod. JupyterLab and the Python tools come from scripts/setup.sh, with its
# pins. Everything comes from package registries: Debian's packages, the Go toolchain and modules through the Go
# module proxy, JupyterLab and the XLA plugins from PyPI; only CIFAR comes from its own site (CIFAR=no leaves it
# out). scripts/test-docker.sh builds this image and drives a notebook in it.
#
# Build arguments: BASE and BASE_TAG, the base image (a Debian bookworm; the default is Docker's
# debian:bookworm-slim); GPU=cuda adds the CUDA
# plugin; CIFAR=no leaves CIFAR-10/100 out (`revsgd fetch cifar10` in the container fetches them). Behind a proxy
# that inspects TLS, put its CA certificates in docker/ca-certificates/*.crt before building.
ARG BASE=debian
ARG BASE_TAG=bookworm-slim
FROM ${BASE}:${BASE_TAG}

ARG GO_VERSION=1.26.8
ARG GONB_VERSION=v0.11.4
ARG GOIMPORTS_VERSION=v0.52.0
ARG GOPLS_VERSION=v0.23.0
ENV DEBIAN_FRONTEND=noninteractive \
    PATH=/revsgd/tools/jupyter/bin:/root/go/bin:/usr/local/go/bin:$PATH \
    REVSGD_DATA=/data \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt

# The CA certificates of a proxy that inspects TLS, if any (docker/ca-certificates/*.crt), beside Debian's.
COPY docker/ca-certificates/ /usr/local/share/ca-certificates/revsgd/

# Go, through the Go module proxy: Debian's Go (1.19) downloads the module golang.org/toolchain at GO_VERSION —
# the same toolchain GOTOOLCHAIN fetches in newer Go — which becomes /usr/local/go; Debian's Go is then removed.
# gcc for cgo (the XLA backend).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates gcc git libc6-dev python3-venv golang-go \
 && update-ca-certificates \
 && mkdir /tmp/toolchain && cd /tmp/toolchain && /usr/bin/go mod init toolchain 2>/dev/null \
 && dir=$(/usr/bin/go mod download -json "golang.org/toolchain@v0.0.1-go${GO_VERSION}.linux-amd64" \
          | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p') \
 && cp -r "$dir" /usr/local/go && chmod -R u+w /usr/local/go \
 && chmod +x /usr/local/go/bin/* /usr/local/go/pkg/tool/*/* \
 && cd / && rm -rf /tmp/toolchain && /usr/bin/go clean -modcache \
 && apt-get purge -y golang-go golang-1.19-go && apt-get autoremove -y && rm -rf /var/lib/apt/lists/* \
 && go version

WORKDIR /revsgd

# The same setup as on a Debian machine, in two layers. First what the pins alone decide (scripts/setup.sh --tools
# reads only itself, go.mod and go.sum): JupyterLab, nbconvert and nbclient at the pinned versions in
# tools/jupyter, numpy and pandas, FashionMNIST, GoNB with goimports and gopls at the pinned versions, the kernel
# registration and the Go modules; a change of the sources leaves this layer in the build cache. Then, with the
# sources, XLA's CPU plugin (the wheel pinned with its hash in pkg/backend.CPUPlugin) and the closing check.
COPY scripts/setup.sh /revsgd/scripts/setup.sh
COPY go.mod go.sum /revsgd/
RUN bash scripts/setup.sh --tools && rm -rf /var/lib/apt/lists/* /root/.cache/pip
COPY . /revsgd
RUN bash scripts/setup.sh && rm -rf /var/lib/apt/lists/* /root/.cache/pip

# The CUDA PJRT plugin with GPU=cuda (JAX's, at the version in pkg/backend.CUDAPluginVersion, with the NVIDIA
# libraries it needs, about 3 GB, through pip), and CIFAR-10/100 into the data directory unless CIFAR=no. The two
# arguments are declared here, not above, so that the layers before this one are shared by the CPU and the GPU
# image (an argument invalidates the cache of every later RUN).
ARG GPU=none
ARG CIFAR=yes
RUN if [ "$GPU" = "cuda" ]; then go run ./cmd/revsgd install-xla -cuda; fi \
 && if [ "$CIFAR" != "no" ]; then datasets/fetch.sh cifar10 cifar100; fi

# The revsgd command on the PATH, for batch jobs (deploy/kubernetes).
RUN go build -o /usr/local/bin/revsgd ./cmd/revsgd

EXPOSE 8888
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--port=8888", "--no-browser", "--allow-root", "--notebook-dir=/revsgd/notebooks"]
