#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build mkfs.ferrodax and fsck.ferrodax (host toolchain, release) into
# build/bin under the names mkfs(8) and fsck(8) look for, and the
# benchmark programs.
. "$(dirname "$0")/lib.sh"
cd "$FERRODAX_ROOT"
cargo build --quiet --release -p ferrodax-tools --bins
mkdir -p build/bin
target=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
for t in mkfs fsck; do
	install -m 755 "$target/release/$t-ferrodax" "build/bin/$t.ferrodax"
done
install -m 755 "$target/release/ferrodax-bench" "$target/release/ferrodax-fuzz" build/bin/
