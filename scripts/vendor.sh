#!/bin/sh
# Refresh the vendored front-end files from the npm registry at the pinned versions.
# The results are committed under webapp/static/vendor/ (so running credflow needs no npm).
set -eu
BOOTSTRAP=5.3.9
BPMN_JS=18.31.1
dest=$(cd "$(dirname "$0")/.." && pwd)/webapp/static/vendor
tmp=$(mktemp -d)
cd "$tmp"
npm pack --silent "bootstrap@$BOOTSTRAP" "bpmn-js@$BPMN_JS" >/dev/null
mkdir b j
tar xzf "bootstrap-$BOOTSTRAP.tgz" -C b
tar xzf "bpmn-js-$BPMN_JS.tgz" -C j
rm -rf "$dest/bootstrap" "$dest/bpmn-js"
mkdir -p "$dest/bootstrap" "$dest/bpmn-js/assets"
cp b/package/dist/css/bootstrap.min.css b/package/dist/js/bootstrap.bundle.min.js b/package/LICENSE "$dest/bootstrap/"
cp j/package/dist/bpmn-navigated-viewer.production.min.js j/package/dist/bpmn-modeler.production.min.js j/package/LICENSE "$dest/bpmn-js/"
cp -r j/package/dist/assets/bpmn-font j/package/dist/assets/bpmn-js.css j/package/dist/assets/diagram-js.css "$dest/bpmn-js/assets/"
echo "bootstrap $BOOTSTRAP, bpmn-js $BPMN_JS" > "$dest/VERSIONS"
rm -rf "$tmp"
