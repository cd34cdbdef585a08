// Everything a user of the mixin may want to change, in one place. Override with
//   (import 'mixin.libsonnet') + { _config+:: { jobSelector: 'job="my-braze"' } }
{
  _config+:: {
    // Selects the exporter's scrape job, for BrazeExporterDown (`up{...} == 0`).
    jobSelector: 'job="braze"',
    // The dashboard's uid: keep it stable, links and provisioning refer to it.
    dashboardUid: 'braze-exporter',

    // BrazeSessionsDataStale: the latest complete bucket ended longer ago than this (seconds).
    staleHourSeconds: '2 * 3600',
    staleDaySeconds: '86400',
    // BrazeSessionsDropped: sessions below (1 - ratio) of the same bucket last week, where last
    // week had at least this many.
    sessionsDropRatio: '0.5',
    sessionsDropMinLastWeek: '100',
    // BrazeRateLimitNearlyExhausted: less than this share of the Braze budget left.
    rateLimitRemainingRatio: '0.1',
  },
}
