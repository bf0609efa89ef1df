# shellcheck shell=bash
# Sourced by the bench scripts: prints where cargo puts release builds,
# however its target directory was set (CARGO_TARGET_DIR,
# CARGO_BUILD_TARGET_DIR, a config file), or fails.
release_dir() {
    local dir
    dir=$(cargo metadata --quiet --no-deps --format-version 1 |
        sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
    if ! [ -d "$dir" ]; then
        echo "$0: cannot find cargo's target directory" >&2
        return 1
    fi
    echo "$dir/release"
}
