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

    // BrazeDauDropped: DAU of the latest complete day below (1 - ratio) of the same day last
    // week, where last week had at least this many daily active users.
    dauDropRatio: '0.3',
    dauDropMinLastWeek: '1000',
    // BrazeRevenueDropped: revenue of the latest complete day (export.purchases.unit: day)
    // below (1 - ratio) of the same day last week, where last week had at least this much
    // revenue (in the workspace's currency).
    revenueDropRatio: '0.5',
    revenueDropMinLastWeek: '1000',

    // BrazeEventStopped is opt-in: it watches the events this label selector picks, e.g.
    //   eventStopSelector: 'event=~"signup|checkout"',
    // and fires when one of them counted 0 for eventStopHours complete hours (hour series)
    // or for the latest complete day (day series). The default, event="", matches no series
    // (braze_events always has an event label), so the alert is off until you set it.
    eventStopSelector: 'event=""',
    eventStopHours: '2',

    // Every alert's runbook_url annotation: this pattern with the alert's name in lower case
    // (the anchor of its section in docs/runbook.md). Point it at your copy of the runbook.
    runbookURLPattern: 'https://github.com/braze-exporter/braze-exporter/blob/main/docs/runbook.md#%s',
  },
}
