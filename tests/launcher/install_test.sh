#!/bin/sh
# `cmake --install` into a temporary prefix: the installed launcher finds the
# installed library (`parklock run -- true`), and a program using parklock.h
# compiles with `pkg-config --cflags parklock`, runs without the library and
# under the installed launcher.
#
# usage: install_test.sh BUILD_DIR NAMED_LOCK_SOURCE
set -eu
build_dir=$1
source=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT

cmake --install "$build_dir" --prefix "$prefix" >"$prefix/install.log"
export PKG_CONFIG_PATH=$(dirname "$(find "$prefix" -name parklock.pc)")
test -x "$prefix/bin/parklock"
test -f "$prefix/include/parklock.h"
preload=$(realpath "$(pkg-config --variable=preload parklock)")
test -f "$preload"

"$prefix/bin/parklock" run -- true
"$prefix/bin/parklock" run -- sh -c 'echo "$LD_PRELOAD"' | grep -qx "$preload"

cc $(pkg-config --cflags parklock) -o "$prefix/named_lock" "$source" -pthread
"$prefix/named_lock" | grep -qx 'parklock not loaded'
"$prefix/bin/parklock" run -- "$prefix/named_lock" | grep -qx 'parklock loaded'
echo "PASS: installed to $prefix: $(cd "$prefix" && find . -type f | sort | tr '\n' ' ')"
