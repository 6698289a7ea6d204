#!/bin/sh
# Refresh the vendored front-end files from the npm registry at the pinned versions.
# The results are committed under webapp/static/vendor/ (so running credflow needs no npm).
set -eu
BOOTSTRAP=5.3.9
BPMN_JS=18.31.1
ECHARTS=6.1.0
dest=$(cd "$(dirname "$0")/.." && pwd)/webapp/static/vendor
tmp=$(mktemp -d)
cd "$tmp"
npm pack --silent "bootstrap@$BOOTSTRAP" "bpmn-js@$BPMN_JS" "echarts@$ECHARTS" >/dev/null
mkdir b j e
tar xzf "bootstrap-$BOOTSTRAP.tgz" -C b
tar xzf "bpmn-js-$BPMN_JS.tgz" -C j
tar xzf "echarts-$ECHARTS.tgz" -C e
rm -rf "$dest/bootstrap" "$dest/bpmn-js" "$dest/echarts"
mkdir -p "$dest/bootstrap" "$dest/bpmn-js/assets" "$dest/echarts"
cp b/package/dist/css/bootstrap.min.css b/package/dist/js/bootstrap.bundle.min.js b/package/LICENSE "$dest/bootstrap/"
cp j/package/dist/bpmn-navigated-viewer.production.min.js j/package/dist/bpmn-modeler.production.min.js j/package/LICENSE "$dest/bpmn-js/"
cp -r j/package/dist/assets/bpmn-font j/package/dist/assets/bpmn-js.css j/package/dist/assets/diagram-js.css "$dest/bpmn-js/assets/"
cp e/package/dist/echarts.min.js e/package/LICENSE e/package/NOTICE "$dest/echarts/"
echo "bootstrap $BOOTSTRAP, bpmn-js $BPMN_JS, echarts $ECHARTS" > "$dest/VERSIONS"
rm -rf "$tmp"
