#!/bin/sh
# Grafana's start in mop-sandbox: installs the pinned Drilldown apps (MOP_GRAFANA_PLUGINS, "id@version ...",
# from scripts/stack/versions.ts) into the plugins folder on the data volume, then runs the image's own
# entrypoint. Why not Grafana's plugin preinstall: with it on, Grafana 13 also "preinstalls" its bundled
# Prometheus, Tempo and Loki datasources, unloading them to download replacements, which offline leaves them
# unregistered. `grafana cli plugins install` only writes the one plugin's folder.
#
# Offline once fetched: a plugin whose plugin.json already has the pinned version is not fetched again. A
# plugin that cannot be fetched (no network) is skipped with a warning; Grafana starts without it, and the
# next start tries again. A new version is unpacked beside the old one and replaces it only when complete.
set -u

plugins_dir="${GF_PATHS_PLUGINS:-/var/lib/grafana/plugins}"
mkdir -p "$plugins_dir"

for spec in ${MOP_GRAFANA_PLUGINS:-}; do
  id="${spec%@*}"
  version="${spec#*@}"
  if grep -qs "\"version\": *\"$version\"" "$plugins_dir/$id/plugin.json"; then
    continue
  fi
  staging="$(mktemp -d "$plugins_dir/.mop-install-XXXXXX")" || exit 1
  if grafana cli --pluginsDir "$staging" plugins install "$id" "$version" >"$staging.log" 2>&1 &&
    grep -qs "\"version\": *\"$version\"" "$staging/$id/plugin.json"; then
    rm -rf "$plugins_dir/$id" && mv "$staging/$id" "$plugins_dir/$id" && echo "mop-sandbox: installed $id $version"
  else
    echo "mop-sandbox: could not install $id $version (is grafana.com reachable?); Grafana starts without it: $(tail -n 1 "$staging.log" 2>/dev/null)" >&2
  fi
  rm -rf "$staging" "$staging.log"
done

# MOP_GRAFANA_ENTRYPOINT exists for the tests, which run this script without the Grafana image.
exec "${MOP_GRAFANA_ENTRYPOINT:-/run.sh}" "$@"
