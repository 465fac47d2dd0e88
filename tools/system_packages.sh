#!/usr/bin/env bash
# The Debian / Ubuntu packages behind `make test`'s full suite, each installed only when what it
# provides is missing:
#   Fashion-MNIST (dataset-fashion-mnist)  the files in /usr/share/datasets/fashion-mnist/
#   make                                    the Makefile
#   chromium                                the browser tests (tests/test_browser.py)
#   nodejs, npm                             the decks' Marp CLI (slides/package.json; Node >= 18)
# A Node.js that is already on the PATH (NodeSource's, nvm's, ...) is left alone: NodeSource's
# nodejs bundles npm and conflicts with Debian's npm package, so asking apt for both would fail.
#
# usage: bash tools/system_packages.sh [--dry-run]     (--dry-run: say what it would install)
# Runs apt-get as root, or through sudo. Exits non-zero, naming the package and apt's reason, when
# a package cannot be installed.
set -euo pipefail

NODE_MIN=18  # @marp-team/marp-cli 4.5.1 declares "engines": {"node": ">=18"}
# where Debian's package puts Fashion-MNIST (course_utils/data.py reads it from there)
FASHION_DIR=${COURSE_DEBIAN_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
DRY_RUN=0
case "${1:-}" in
  --dry-run) DRY_RUN=1 ;;
  "") ;;
  *) echo "usage: bash tools/system_packages.sh [--dry-run]" >&2; exit 2 ;;
esac

say() { echo "system packages: $*"; }
have() { command -v "$1" >/dev/null 2>&1; }

export DEBIAN_FRONTEND=noninteractive  # apt never stops to ask
as_root() {
  if [ "$EUID" -eq 0 ]; then "$@"
  elif have sudo; then sudo DEBIAN_FRONTEND=noninteractive "$@"
  else say "installing needs root: run this script as root, or install sudo" >&2; exit 1
  fi
}

fashion_present() {
  local f
  for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz \
           t10k-labels-idx1-ubyte.gz; do
    [ -f "$FASHION_DIR/$f" ] || return 1
  done
}

chromium_present() {
  if [ -n "${COURSE_CHROMIUM:-}" ]; then [ -x "$COURSE_CHROMIUM" ]; else have chromium; fi
}

# major version of the node on the PATH ("v20.20.2" -> 20), empty when it does not answer
node_major() {
  local v
  v=$(node --version 2>/dev/null) || return 0
  if [[ $v =~ ^v?([0-9]+)\. ]]; then echo "${BASH_REMATCH[1]}"; fi
}

updated=0
install() {  # install PKG WHY
  local pkg=$1 why=$2 out line
  if [ "$DRY_RUN" -eq 1 ]; then say "would install $pkg ($why)"; return 0; fi
  say "installing $pkg ($why)"
  if [ "$updated" -eq 0 ]; then
    if ! out=$(as_root apt-get update -qq 2>&1); then
      say "could not install $pkg: 'apt-get update' failed:" >&2
      printf '%s\n' "$out" >&2
      exit 1
    fi
    updated=1
  fi
  if ! out=$(as_root apt-get install -y -qq "$pkg" 2>&1); then
    say "could not install $pkg: apt-get says" >&2
    # apt's reasons: the error lines and the unmet dependencies / conflicts it lists
    while IFS= read -r line; do
      case "$line" in
        E:*|*Depends:*|*Conflicts:*|*Breaks:*|*"has no installation candidate"*|*"Unable to locate"*)
          echo "  $line" >&2 ;;
      esac
    done <<<"$out"
    case "$pkg" in
      npm) echo "  The node on your PATH ($(command -v node)) came without npm; NodeSource's nodejs bundles" \
                "npm and conflicts with Debian's npm package: reinstall Node.js from where it came" >&2 ;;
    esac
    exit 1
  fi
}

fashion_present || install dataset-fashion-mnist "Fashion-MNIST not in $FASHION_DIR"
have make || install make "no make on the PATH"
chromium_present || install chromium "no chromium on the PATH: the browser tests need it"

if have node; then
  major=$(node_major)
  if [ -z "$major" ] || [ "$major" -lt "$NODE_MIN" ]; then
    say "the node on the PATH ($(command -v node), version '${major:-unknown}') is older than Node.js" \
        "$NODE_MIN, which the decks' Marp CLI needs: install a newer Node.js (Debian 12's nodejs, or" \
        "NodeSource's) and run this again" >&2
    exit 1
  fi
  # Debian's own nodejs ships npm as a separate package; any other node brings its own npm
  have npm || install npm "node $major is on the PATH but npm is not: the decks install Marp with it"
else
  install nodejs "no node on the PATH: the decks' Marp CLI runs on Node.js >= $NODE_MIN"
  have npm || install npm "Debian's nodejs comes without npm: the decks install Marp with it"
fi

[ "$DRY_RUN" -eq 1 ] && exit 0
# an install that succeeded but did not provide what it should (another PATH, another layout)
missing=()
fashion_present || missing+=("Fashion-MNIST in $FASHION_DIR")
have make || missing+=(make)
chromium_present || missing+=(chromium)
have node || missing+=(node)
have npm || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  say "still missing after installing: ${missing[*]}" >&2
  exit 1
fi
say "present: Fashion-MNIST, make, chromium, node $(node --version), npm $(npm --version)"
