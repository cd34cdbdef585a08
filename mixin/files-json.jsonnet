// The JSON files mixin/build.sh writes, by path relative to the repository:
// `jsonnet -m DIR mixin/files-json.jsonnet` writes them under DIR in jsonnet's own layout, as
// mixins are usually rendered (jsonnet 0.18's std.manifestJsonEx took 9.4 to 14.7 s for the
// dashboard in two runs; the native writer's whole evaluation took 0.4 to 0.5 s).
local mixin = import 'mixin.libsonnet';

{
  'grafana/dashboards/braze-exporter.json': mixin.grafanaDashboards['braze-exporter.json'],
}
