#!/usr/bin/env bash
# Packs tensorforge, installs the tarball into a scratch project (which compiles the addon with
# node-gyp, as a user's install does without a prebuild), then requires and imports it from there.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

tarball="$(cd "$root" && npm pack --silent --pack-destination "$scratch" | tail -n 1)"
cd "$scratch"
npm init -y > /dev/null
npm install --no-audit --no-fund "./$tarball" > install.log 2>&1 || { cat install.log; exit 1; }

node -e "
const tf = require('tensorforge');
const info = tf.backendInfo();
console.log('check-package: require ->', JSON.stringify(info));
if (info.name !== 'native') { console.error('check-package: expected the native backend'); process.exit(1); }
"
node --input-type=module -e "
import { backendInfo } from 'tensorforge';
import tf from 'tensorforge';
if (backendInfo().name !== 'native' || tf.backendInfo !== backendInfo) { console.error('check-package: ESM entry is wrong'); process.exit(1); }
console.log('check-package: import -> ok, same module instance as require');
"
echo "check-package: 1 passed, 0 failed"
