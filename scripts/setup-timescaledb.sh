#!/usr/bin/env bash
# Installs TimescaleDB's Apache-2 part for the machine's PostgreSQL from Debian trixie's source
# package (DESIGN.md §5). Idempotent: exits early when the extension is already installed.
# The system's apt configuration is never touched: a private sources list and state dir are used.
set -euo pipefail

PG_MAJOR="${PG_MAJOR:-$(ls /usr/lib/postgresql | sort -n | tail -1)}"
PG_CONFIG="/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config"
SHAREDIR="$("$PG_CONFIG" --sharedir 2>/dev/null || echo /usr/share/postgresql/${PG_MAJOR})"
PKGLIBDIR="$("$PG_CONFIG" --pkglibdir 2>/dev/null || echo /usr/lib/postgresql/${PG_MAJOR}/lib)"

if [ -f "${SHAREDIR}/extension/timescaledb.control" ] && ls "${PKGLIBDIR}"/timescaledb*.so >/dev/null 2>&1; then
  echo "timescaledb: already installed for PostgreSQL ${PG_MAJOR}"
  exit 0
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

WORK="${TICKVAULT_BUILD_DIR:-/tmp/tickvault-timescaledb-build}"
mkdir -p "$WORK/lists/partial" "$WORK/src"

# Reuse the mirror the machine's apt already uses (deb822 or one-line format).
MIRROR="$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)"
if [ -z "$MIRROR" ]; then
  MIRROR="$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)"
fi
if [ -z "$MIRROR" ]; then
  echo "timescaledb: could not find the Debian mirror in the apt sources" >&2
  exit 1
fi
echo "deb-src [trusted=yes] ${MIRROR} trixie main" > "$WORK/sources.list"
APT_OPTS=(-o "Dir::Etc::sourcelist=$WORK/sources.list" -o "Dir::Etc::sourceparts=/nonexistent"
          -o "Dir::State::Lists=$WORK/lists" -o "APT::Get::List-Cleanup=0")

echo "timescaledb: installing build dependencies"
$SUDO apt-get install -y -q "postgresql-server-dev-${PG_MAJOR}" cmake libssl-dev libkrb5-dev zstd make gcc >/dev/null \
  || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q "postgresql-server-dev-${PG_MAJOR}" cmake libssl-dev libkrb5-dev zstd make gcc >/dev/null; }

echo "timescaledb: fetching the source package from ${MIRROR} (trixie)"
$SUDO apt-get "${APT_OPTS[@]}" update -q >/dev/null
( cd "$WORK/src" && apt-get "${APT_OPTS[@]}" source --download-only timescaledb >/dev/null )
TARBALL="$(ls "$WORK"/src/timescaledb_*.orig.tar.* | head -1)"
rm -rf "$WORK/build" && mkdir -p "$WORK/build"
tar -xf "$TARBALL" -C "$WORK/build" --strip-components=1

echo "timescaledb: building (Apache-2 part only)"
cd "$WORK/build"
./bootstrap -DAPACHE_ONLY=1 -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF -DWARNINGS_AS_ERRORS=OFF \
  -DPG_CONFIG="$PG_CONFIG" -DCMAKE_BUILD_TYPE=Release >/dev/null
make -C build -j"$(nproc)" >/dev/null
$SUDO make -C build install >/dev/null
echo "timescaledb: installed for PostgreSQL ${PG_MAJOR}"
