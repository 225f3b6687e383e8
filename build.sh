#!/usr/bin/env bash
# TinyML.Sdk build entry point. Every command installs what it needs first (idempotently).
#   ./build.sh setup    install Debian packages (cmake, Arm GCC, cross GCCs, QEMU, Wine, curl), fetch TFLite's C library (a test
#                       oracle, build/tflite) and restore NuGet packages
#   ./build.sh native   build the kernel libraries with CMake: linux-x64 (build/native) and HOST_RIDS (build/native-<rid>)
#   ./build.sh build    native + dotnet build
#   ./build.sh test     build, then run every test (CTest, cross builds, dotnet test); ends with "N passed, N failed"
#   ./build.sh sample   pack the SDK, then build and run the HelloSine sample (trains, quantizes, compiles and runs its model)
#   ./build.sh pack     pack the NuGet packages into feed/
#   ./build.sh firmware build samples/Firmware (KeywordSpotting on a Cortex-M4) and run it under QEMU
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
CONFIG=${CONFIG:-Release}
BUILD=$ROOT/build
CROSS_CORES=(cortex-m0plus cortex-m4 cortex-m7 cortex-m33 cortex-m55)
# Host platforms besides linux-x64 whose kernel library is cross-built here (toolchain files in
# src/TinyML.Kernels.Native/cmake/<rid>.cmake); their tests run under qemu-user and Wine.
HOST_RIDS=(linux-arm64 linux-arm win-x64)
# macOS and Windows on Arm (cmake/osx-*.cmake, cmake/win-arm64.cmake): clang and lld link them against the few
# declarations and system-library stubs in cmake/sdk-stubs; nothing runs them here, so they are built and checked
# only, and clang with the macOS flags also builds for Linux (CLANG_BUILDS), whose tests run like the others'.
UNRUN_RIDS=(osx-x64 osx-arm64 win-arm64)
CLANG_BUILDS=(clang-linux-x64 clang-linux-arm64)
APT_PACKAGES=(cmake make gcc gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm curl ca-certificates
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-arm-linux-gnueabihf libc6-dev-armhf-cross gcc-mingw-w64-x86-64
  qemu-user wine64 clang-14 lld-14 llvm dataset-fashion-mnist)
# TensorFlow Lite's C library (2.9, x86-64), a test oracle only: the quantization tests load our int8 models in the
# TFLite interpreter, and bench/TinyML.Bench times it next to ours. It comes prebuilt in the npm package
# tfjs-tflite-node 0.0.2, fetched from the npm registry and checked against the registry's sha512; the package's
# linux-arm64 build (build/tflite/linux-arm64) is what the bench's --arm64 table counts under qemu-aarch64.
TFLITE_URL=https://registry.npmjs.org/tfjs-tflite-node/-/tfjs-tflite-node-0.0.2.tgz
TFLITE_SHA512=65e77d6e23b3f65916b1e92f3f07449b15e7b235c99d93bc88e574b36636d10535e5cc223de7731440588866caeec998a6426940d358f52ba4a0a9948bd6e4f7
TFLITE_LIB=$BUILD/tflite/libtensorflowlite_c.so
TFLITE_LIB_ARM64=$BUILD/tflite/linux-arm64/libtensorflowlite_c.so

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

setup() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >/dev/null
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  command -v dotnet >/dev/null || { echo "error: the .NET SDK (dotnet) is not on PATH" >&2; exit 1; }
  fetch_tflite
  log "restoring NuGet packages"
  dotnet restore TinyML.Sdk.sln --verbosity quiet
}

fetch_tflite() {
  [ -f "$TFLITE_LIB" ] && [ -f "$TFLITE_LIB_ARM64" ] && return 0
  log "fetching the TFLite interpreter library (test oracle)"
  local tgz=$BUILD/tflite/tfjs-tflite-node.tgz
  mkdir -p "$BUILD/tflite"
  curl -fsSL --retry 3 -o "$tgz" "$TFLITE_URL"
  echo "$TFLITE_SHA512  $tgz" | sha512sum -c --quiet - || { echo "error: $TFLITE_URL does not match its sha512" >&2; exit 1; }
  tar -xzf "$tgz" -C "$BUILD/tflite" --strip-components=3 package/cc_deps/linux_amd64/libtensorflowlite_c.so
  mkdir -p "$BUILD/tflite/linux-arm64"
  tar -xzf "$tgz" -C "$BUILD/tflite/linux-arm64" --strip-components=3 package/cc_deps/linux_arm64/libtensorflowlite_c.so
  rm -f "$tgz"
}

native() {
  log "building the host kernel library"
  cmake -S src/TinyML.Kernels.Native -B "$BUILD/native" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD/native" -j "$(nproc)" >/dev/null
  log "building the kernel libraries of ${HOST_RIDS[*]} ${UNRUN_RIDS[*]} ${CLANG_BUILDS[*]}"
  for rid in "${HOST_RIDS[@]}" "${UNRUN_RIDS[@]}" "${CLANG_BUILDS[@]}"; do
    local tests=ON
    [[ " ${UNRUN_RIDS[*]} " == *" $rid "* ]] && tests=OFF
    cmake -S src/TinyML.Kernels.Native -B "$BUILD/native-$rid" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_TOOLCHAIN_FILE="$ROOT/src/TinyML.Kernels.Native/cmake/$rid.cmake" \
      -DTML_BUILD_SHARED=ON -DTML_BUILD_TESTS=$tests -DTML_WARNINGS_AS_ERRORS=ON >/dev/null
    cmake --build "$BUILD/native-$rid" -j "$(nproc)" >/dev/null
  done
  # Wine's first start creates its prefix (~15 s); once here, so that parallel test programs do not race to do it.
  [ -d "$BUILD/native-win-x64/wine" ] ||
    WINEDEBUG=-all WINEPREFIX="$BUILD/native-win-x64/wine" /usr/lib/wine/wine64 wineboot --init >/dev/null 2>&1
}

cross() {
  local core=$1
  cmake -S src/TinyML.Kernels.Native -B "$BUILD/native-$core" \
    -DCMAKE_TOOLCHAIN_FILE="$ROOT/src/TinyML.Kernels.Native/cmake/$core.cmake" -DCMAKE_BUILD_TYPE=Release >/dev/null &&
    cmake --build "$BUILD/native-$core" -j "$(nproc)" >/dev/null
}

build() {
  setup
  native
  log "building the .NET solution ($CONFIG)"
  dotnet build TinyML.Sdk.sln -c "$CONFIG" --no-restore --verbosity quiet -nologo
}

# Reads attribute $2 from the first element named $1 in an XML file.
xml_attr() { tr '\n\t' '  ' < "$3" | grep -o "<$1 [^>]*" | head -n 1 | grep -o " $2=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }

test_all() {
  local passed=0 failed=0 skipped=0 status=0
  if ! build; then
    echo "0 passed, 1 failed"
    return 1
  fi
  local results=$BUILD/test-results
  rm -rf "$results"
  mkdir -p "$results"

  log "kernel tests (CTest: linux-x64, then ${HOST_RIDS[*]} under qemu-user and Wine, then ${CLANG_BUILDS[*]})"
  for dir in native "${HOST_RIDS[@]/#/native-}" "${CLANG_BUILDS[@]/#/native-}"; do
    local xml="$results/ctest-$dir.xml"
    ctest --test-dir "$BUILD/$dir" -j "$(nproc)" --output-on-failure --output-junit "$xml" || status=1
    if [ -f "$xml" ]; then
      local total fail skip
      total=$(xml_attr testsuite tests "$xml")
      fail=$(xml_attr testsuite failures "$xml")
      skip=$(( $(xml_attr testsuite skipped "$xml") + $(xml_attr testsuite disabled "$xml") ))
      passed=$((passed + total - fail - skip)); failed=$((failed + fail)); skipped=$((skipped + skip))
    else
      failed=$((failed + 1))
    fi
  done

  log "cross builds of the kernels (${CROSS_CORES[*]})"
  for core in "${CROSS_CORES[@]}"; do
    if cross "$core"; then passed=$((passed + 1)); echo "cross build $core: passed"
    else failed=$((failed + 1)); status=1; echo "cross build $core: FAILED"; fi
  done

  log "dotnet tests"
  dotnet test TinyML.Sdk.sln -c "$CONFIG" --no-build --verbosity quiet -nologo \
    --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results" || status=1
  local trx_count=0
  for trx in "$results"/*.trx; do
    [ -f "$trx" ] || continue
    trx_count=$((trx_count + 1))
    local total executed pass
    total=$(xml_attr Counters total "$trx")
    executed=$(xml_attr Counters executed "$trx")
    pass=$(xml_attr Counters passed "$trx")
    passed=$((passed + pass)); failed=$((failed + executed - pass)); skipped=$((skipped + total - executed))
  done
  if [ "$trx_count" -eq 0 ]; then failed=$((failed + 1)); status=1; fi

  if [ "$skipped" -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"
  else echo "$passed passed, $failed failed"; fi
  [ "$failed" -eq 0 ] && return $status
  return 1
}

# Samples consume the packed SDK like a user; a private package cache keeps a rebuilt 0.1.0 from being shadowed.
sample_env() {
  export NUGET_PACKAGES=$BUILD/sample-packages
  rm -rf "$NUGET_PACKAGES"/tinyml.*
}

sample() {
  pack
  sample_env
  log "HelloSine: trains its model, compiles it with TinyML.Sdk, runs it"
  dotnet run --project samples/HelloSine -c "$CONFIG" --verbosity quiet
}

firmware() {
  build
  log "Firmware: the KeywordSpotting model, compiled for Cortex-M4, on QEMU's MPS2 AN386"
  mkdir -p "$BUILD/firmware"
  dotnet run --project samples/KeywordSpotting/ModelBuilder -c "$CONFIG" --no-build -- "$BUILD/firmware/kws.tflite"
  dotnet run --project src/TinyML.Cli -c "$CONFIG" --no-build -- compile "$BUILD/firmware/kws.tflite" \
    --target cortex-m4 --name kws --out "$BUILD/firmware/tinyml"
  make -C samples/Firmware --no-print-directory TINYML="$BUILD/firmware/tinyml" BUILD="$BUILD/firmware" run
}

pack() {
  build
  log "packing into feed/"
  dotnet pack TinyML.Sdk.sln -c "$CONFIG" --no-build --verbosity quiet -nologo -o "$ROOT/feed"
}

case "${1:-}" in
  setup) setup ;;
  native) setup; native ;;
  build) build ;;
  test) test_all ;;
  sample) sample ;;
  pack) pack ;;
  firmware) firmware ;;
  *) sed -n '2,10p' "$0"; exit 2 ;;
esac
