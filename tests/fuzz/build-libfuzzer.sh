#!/bin/sh
# Build the fuzz targets with clang's libFuzzer and AddressSanitizer + UBSan, outside the
# source tree (docs/FUZZING.md). Usage: tests/fuzz/build-libfuzzer.sh OUTDIR
# Produces OUTDIR/fuzz_config and OUTDIR/fuzz_data, and seed corpora OUTDIR/corpus_config and
# OUTDIR/corpus_data (the checked-in corpus, the bad-input catalogue, the example configs, and
# tiny HDF5 files written by the freshly built bprun).
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
src=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
CC=${CC:-clang}
SAN=${SAN:-address,undefined}
rm -rf "$out/src"
mkdir -p "$out/src"
# the tracked files as they are in the working tree (the source tree may be configured)
(cd "$src" && git ls-files -z | xargs -0 tar -cf -) | tar -xf - -C "$out/src"
cd "$out/src"
autoreconf -fi >/dev/null 2>&1
./configure -q CC="$CC" CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,$SAN" \
  LDFLAGS="-fsanitize=$SAN" --disable-shared >/dev/null
make -j"$(nproc)" libbprun.la bprun >/dev/null
flags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,$SAN -I. -Isrc -Iinclude -Itests/fuzz \
  $(pkg-config --cflags yaml-0.1 hdf5-serial 2>/dev/null || true)"
libs=".libs/libbprun.a $(pkg-config --libs yaml-0.1 hdf5-serial zlib 2>/dev/null || echo -lyaml -lhdf5_serial -lz) -lm -fopenmp"
for t in config data; do
  # shellcheck disable=SC2086
  $CC $flags -o "$out/fuzz_$t" tests/fuzz/fuzz_$t.c tests/fuzz/fuzz_common.c $libs
done
rm -rf "$out/corpus_config" "$out/corpus_data"
mkdir -p "$out/corpus_config" "$out/corpus_data"
cp tests/fuzz/corpus_config/* tests/bad/*.yaml configs/*.yaml "$out/corpus_config/"
cp tests/fuzz/corpus_data/* data/*.csv tests/bad/*.csv "$out/corpus_data/"
./bprun import builtin:xor -o "$out/corpus_data/xor.h5#/train" >/dev/null
./bprun import builtin:parity:3 -o "$out/corpus_data/parity.h5" >/dev/null
echo "built $out/fuzz_config and $out/fuzz_data; seeds in $out/corpus_config and $out/corpus_data"
