#!/usr/bin/env bash
# What a user gets from the registry, checked before anything is published: pack both packages,
# install the tarballs into an empty project (no workspace, no dev dependencies), then run the
# installed `gatehouse` CLI and import the SDK. Run by .ci/run; run it by hand before `npm publish`.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

npm pack --silent -w @gatehouse/sdk -w @gatehouse/server --pack-destination "$work" >/dev/null
cd "$work"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund --prefer-offline ./gatehouse-sdk-*.tgz ./gatehouse-server-*.tgz

# Nothing from the source tree may be needed at run time.
for file in node_modules/@gatehouse/server/README.md node_modules/@gatehouse/server/LICENSE \
  node_modules/@gatehouse/sdk/README.md node_modules/@gatehouse/sdk/LICENSE; do
  [ -f "$file" ] || { echo "pack-check: $file is missing from the package" >&2; exit 1; }
done
if find node_modules/@gatehouse -name '*.test.*' -o -name '*.tsbuildinfo' | grep -q .; then
  echo "pack-check: tests or build info were packed" >&2
  exit 1
fi

version=$(./node_modules/.bin/gatehouse --version)
echo "pack-check: installed gatehouse $version"
node --input-type=module -e "import { createVerifier } from '@gatehouse/sdk'; if (typeof createVerifier !== 'function') process.exit(1);"

mkdir run && cd run
../node_modules/.bin/gatehouse serve --port 0 --admin-port 0 >serve.log 2>&1 &
server=$!
for _ in $(seq 1 100); do
  grep -q 'gatehouse is ready' serve.log && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
grep -q 'gatehouse is ready' serve.log || { echo "pack-check: the installed server did not start:" >&2; cat serve.log >&2; exit 1; }
[ -s data/admin.key ] || { echo "pack-check: no admin key written" >&2; exit 1; }
echo "pack-check: the packed server starts on the embedded store; the SDK imports"
