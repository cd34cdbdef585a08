// braze-exporter's monitoring mixin: prometheusAlerts, prometheusRules and grafanaDashboards,
// configured by _config (config.libsonnet). mixin/build.sh renders it to the files shipped
// under grafana/; those files are generated, never edited by hand.
(import 'config.libsonnet') +
(import 'alerts.libsonnet') +
(import 'rules.libsonnet') +
(import 'dashboards.libsonnet')
