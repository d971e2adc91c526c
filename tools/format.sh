#!/bin/sh
# Format (default) or check (--check) every tracked C source and header with .clang-format.
# Generated code lives only in build directories, so everything tracked is ours.
set -eu
cd "$(dirname "$0")/.."
cf=$(command -v clang-format-14 || command -v clang-format)
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -path ./build -prune -o \( -name '*.c' -o -name '*.h' \) -print)
[ -n "$files" ] || exit 0
if [ "${1:-}" = "--check" ]; then
	# shellcheck disable=SC2086
	"$cf" --dry-run --Werror $files && echo "format_check: $(echo "$files" | wc -l) files clean"
else
	# shellcheck disable=SC2086
	"$cf" -i $files
fi
