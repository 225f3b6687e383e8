#!/usr/bin/env bash
# Renders the memory report of a model and screenshots it with headless Debian chromium.
#   tools/report-screenshot.sh MODEL [out.png] [ram-budget]      e.g. ../shared/models/kws.tflite build/kws.png 16KB
# The budget defaults to 20KB; REPORT_WINDOW (default 1000,1900) sets the browser window, which is what is captured.
# Needs: apt-get install -y chromium; the solution built (dotnet build TinyML.Sdk.sln -c Release).
set -euo pipefail
model=$(realpath "$1")
cd "$(dirname "$0")/.."
png=$(realpath -m "${2:-build/memory-report.png}")
budget=${3:-20KB}
mkdir -p build "$(dirname "$png")"
html=$(pwd)/build/$(basename "$model" .tflite).memory.html
dotnet src/TinyML.Cli/bin/Release/net10.0/tinyml.dll plan "$model" --report "$html" --ram-budget "$budget" >/dev/null
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="${REPORT_WINDOW:-1000,1900}" --screenshot="$png" "file://$html" 2>/dev/null
echo "wrote $png from $html"
