#!/usr/bin/env bash
# Debian packages yuqing needs and a fresh machine may lack: the system Chromium (Playwright drives it;
# no browser download is possible here), CJK fonts (so pages and screenshots show Chinese), Redis (tests of
# distributed crawling), Maven and a JDK (the local Elasticsearch node), gcc and the Python headers (the
# compiled analysis kernels). Installs only what is missing.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# The old headless mode as its own binary: what the crawler renders pages with (half the memory of chromium).
command -v chromium-headless-shell >/dev/null 2>&1 || need+=(chromium-headless-shell)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v mvn >/dev/null 2>&1 || need+=(maven)
command -v java >/dev/null 2>&1 || need+=(default-jdk-headless)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
# A C compiler and the Python headers: pip compiles the analysis kernels (setup.py, analysis/_*.pyx).
command -v gcc >/dev/null 2>&1 || need+=(gcc)
python3 -c 'import os, sysconfig; raise SystemExit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
  || need+=(python3-dev)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "安装系统软件包: ${need[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
