#!/usr/bin/env bash
# Renders the memory report of a model and screenshots it with headless Debian chromium.
#   tools/report-screenshot.sh ../shared/models/kws.tflite [out.png]
# Needs: apt-get install -y chromium; the solution built (dotnet build TinyML.Sdk.sln -c Release).
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1
png=${2:-build/memory-report.png}
mkdir -p build
html=$(pwd)/build/memory-report.html
dotnet src/TinyML.Cli/bin/Release/net10.0/tinyml.dll plan "$model" --report "$html" --ram-budget 20KB >/dev/null
chromium --headless --no-sandbox --disable-gpu --window-size=900,2400 --screenshot="$(pwd)/$png" "file://$html" 2>/dev/null
echo "wrote $png"
