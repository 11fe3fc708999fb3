#!/usr/bin/env bash
# Checks the Prometheus rules in deploy/prometheus/ and runs their unit tests with promtool,
# installing Debian's prometheus package first when promtool is missing (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n==> %s\n' "$*"; }

if ! command -v promtool >/dev/null; then
  step "apt-get install prometheus (Debian's, for promtool)"
  sudo_if_needed=""; [ "$(id -u)" -ne 0 ] && sudo_if_needed="sudo"
  $sudo_if_needed apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_if_needed apt-get install -y -qq --no-install-recommends prometheus
fi

promtool check rules deploy/prometheus/alerts.yml
promtool test rules deploy/prometheus/alerts_test.yml
