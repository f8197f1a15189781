#!/bin/sh
# Build the fuzz targets with clang's libFuzzer and AddressSanitizer + UBSan, outside the
# source tree (docs/FUZZING.md). Usage: tests/fuzz/build-libfuzzer.sh OUTDIR
# Produces OUTDIR/fuzz_NAME for each target (config, data, csv, idx, override, hparams), the
# bundled plugins fuzz_hparams loads (OUTDIR/plugins, built without sanitizers: they are not
# under test), and seed corpora OUTDIR/corpus_NAME (the checked-in corpus, the bad-input
# catalogue, the example configs and data, and tiny HDF5 files written by the fresh bprun).
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
src=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
CC=${CC:-clang}
SAN=${SAN:-address,undefined}
targets="config data csv idx override hparams"
rm -rf "$out/src"
mkdir -p "$out/src"
# the tracked files as they are in the working tree (the source tree may be configured)
(cd "$src" && git ls-files -z | xargs -0 tar -cf -) | tar -xf - -C "$out/src"
cd "$out/src"
autoreconf -fi >/dev/null 2>&1
./configure -q CC="$CC" CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,$SAN" \
  LDFLAGS="-fsanitize=$SAN" --disable-shared >/dev/null
make -j"$(nproc)" libbprun.la bprun >/dev/null
rm -rf "$out/plugins"
mkdir -p "$out/plugins"
for f in plugins/*/*.c; do
  n=$(basename "$f" .c)
  $CC -O2 -fPIC -shared -Iinclude -Isrc -o "$out/plugins/$n.so" "$f" -lm
done
flags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,$SAN -I. -Isrc -Iinclude -Itests/fuzz \
  $(pkg-config --cflags yaml-0.1 hdf5-serial 2>/dev/null || true)"
libs=".libs/libbprun.a $(pkg-config --libs yaml-0.1 hdf5-serial zlib 2>/dev/null || echo -lyaml -lhdf5_serial -lz) -lm -fopenmp"
for t in $targets; do
  # shellcheck disable=SC2086
  $CC $flags -DBP_FUZZ_PLUGIN_DIR="\"$out/plugins\"" -o "$out/fuzz_$t" tests/fuzz/fuzz_$t.c \
    tests/fuzz/fuzz_common.c $libs
  rm -rf "$out/corpus_$t"
  mkdir -p "$out/corpus_$t"
  cp tests/fuzz/corpus_$t/* "$out/corpus_$t/"
done
cp tests/bad/*.yaml configs/*.yaml "$out/corpus_config/"
cp data/*.csv tests/bad/*.csv "$out/corpus_data/"
cp data/*.csv tests/bad/*.csv tests/fuzz/corpus_data/*.csv "$out/corpus_csv/"
cp tests/fuzz/corpus_data/*.idx "$out/corpus_idx/"
./bprun import builtin:xor -o "$out/corpus_data/xor.h5#/train" >/dev/null
./bprun import builtin:parity:3 -o "$out/corpus_data/parity.h5" >/dev/null
echo "built $(for t in $targets; do printf '%s ' "$out/fuzz_$t"; done)"
echo "seeds in $out/corpus_NAME"
