#!/usr/bin/env bash
# Installs what building and testing parklock needs on Debian 12.
set -euo pipefail
cd "$(dirname "$0")"
./apt-install.sh \
  build-essential cmake ninja-build pkg-config \
  libgtest-dev libgmock-dev libbenchmark-dev \
  libunwind-dev prometheus-cpp-dev libdw-dev \
  libcpp-httplib-dev nlohmann-json3-dev libcli11-dev \
  libopenblas-dev \
  prometheus gnuplot-nox python3 python3-prometheus-client \
  curl procps
