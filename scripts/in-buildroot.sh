#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Run a command inside the trixie build root (see lib.sh), e.g. a kbuild
# `make`, so the module is compiled by the toolchain that built the kernel.
. "$(dirname "$0")/lib.sh"
"$FERRODAX_ROOT/scripts/setup-buildroot.sh"
cd "$PWD"
in_buildroot sh -c 'cd "$0" && exec "$@"' "$PWD" "$@"
