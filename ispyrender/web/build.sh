#!/usr/bin/env bash
# Rebuild viewer.min.js: three.js (MIT, see three-LICENSE) + GLTFLoader + OrbitControls +
# viewer.src.js, tree-shaken and minified into one classic script that the HTML export inlines.
# Needs node/npm and network access; the result is committed, so users never run this.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund three@0.187.0 esbuild@0.28.2 >/dev/null
cp "$here/viewer.src.js" .
./node_modules/.bin/esbuild viewer.src.js --bundle --minify --format=iife --target=es2020 \
    --legal-comments=none --outfile="$here/viewer.min.js" \
    "--banner:js=/* three.js r187, MIT License, Copyright © 2010-2025 three.js authors (three-LICENSE); GLTFLoader, OrbitControls; ispyrender viewer (viewer.src.js). Built by build.sh. */"
cp node_modules/three/LICENSE "$here/three-LICENSE"
