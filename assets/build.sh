#!/bin/sh
# Copy the pinned npm packages (assets/package-lock.json) that ews pages use into a static folder.
# Usage: assets/build.sh ews/static/vendor      (run by `make assets` and the Dockerfile)
set -eu
mkdir -p "$1"
out="$(cd "$1" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
(cd "$here" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
modules="$here/node_modules"
rm -rf "$out"
mkdir -p "$out/jsme" "$out/licenses"
# axe-core: the accessibility checker the browser tests inject into every page
cp "$modules/axe-core/axe.min.js" "$out/"
cp "$modules/axe-core/LICENSE" "$out/licenses/axe-core.txt"
# JSME: the structure editor on /submit (GWT build: the loader and its permutations, all local)
cd "$modules/jsme-editor"
cp -R jsme.nocache.js ./*.cache.js ./*.cache.png clear.cache.gif deferredjs gwt jsa.css "$out/jsme/"
cp license.txt "$out/licenses/jsme.txt"
cd "$here"
# Swagger UI: the API documentation at /docs
mkdir -p "$out/swagger-ui"
cp "$modules/swagger-ui-dist/swagger-ui-bundle.js" "$modules/swagger-ui-dist/swagger-ui.css" "$out/swagger-ui/"
cp "$modules/swagger-ui-dist/LICENSE" "$out/licenses/swagger-ui.txt"
# The map of the Americas, precomputed as SVG paths from world-atlas (Natural Earth)
node "$here/americas.mjs" "$out/americas.json"
cp "$modules/world-atlas/LICENSE" "$out/licenses/world-atlas.txt"
