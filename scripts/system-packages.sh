#!/bin/sh
# Install the Debian/Ubuntu packages named as arguments when they are missing.
# As root this uses apt-get; otherwise it prints the exact command to run.
missing=""
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages:$missing"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
else
  echo "credflow needs these system packages; please run:"
  echo "  sudo apt-get install -y$missing"
fi
