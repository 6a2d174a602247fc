# Sourced by scripts/run.sh and scripts/test-go.sh: puts a Go toolchain of
# at least the version go.mod names on PATH. It uses the one installed
# (PATH, /usr/local/go); else it installs Debian's golang-go, which is too
# old on Debian 12 (1.19) but can fetch the toolchain module
# (golang.org/toolchain) from the Go module proxy, and unpacks that under
# build/go.
TNT_GO_MIN=1.23
TNT_GO_TOOLCHAIN=v0.0.1-go1.23.12.linux-amd64

tnt_go_ok() {
  command -v go >/dev/null 2>&1 || return 1
  local v
  v=$(go env GOVERSION 2>/dev/null | sed 's/^go//') || return 1
  [ "$(printf '%s\n%s\n' "$TNT_GO_MIN" "$v" | sort -V | head -n1)" = "$TNT_GO_MIN" ]
}

tnt_ensure_go() {
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  [ -x /usr/local/go/bin/go ] && export PATH="$PATH:/usr/local/go/bin"
  [ -x "$root/build/go/bin/go" ] && export PATH="$root/build/go/bin:$PATH"
  tnt_go_ok && return 0
  if ! command -v go >/dev/null 2>&1; then
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "go: installing Debian's golang-go to fetch Go $TNT_GO_MIN"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends golang-go ca-certificates
  fi
  echo "go: fetching the Go toolchain module $TNT_GO_TOOLCHAIN from the Go module proxy"
  local dir
  dir=$(cd /tmp && GOFLAGS=-mod=mod GO111MODULE=on go mod download -json "golang.org/toolchain@$TNT_GO_TOOLCHAIN" |
        sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || { echo "go: could not fetch $TNT_GO_TOOLCHAIN" >&2; return 1; }
  rm -rf "$root/build/go"
  mkdir -p "$root/build"
  cp -r "$dir" "$root/build/go"
  chmod -R u+w "$root/build/go"
  chmod +x "$root/build/go/bin/"* "$root/build/go/pkg/tool/"*/*
  export PATH="$root/build/go/bin:$PATH"
  export GOTOOLCHAIN=local
  tnt_go_ok
}
