// Alerts of braze-exporter (group braze-exporter.alerts). Thresholds and the job selector come
// from _config (config.libsonnet).
local y = import 'lib/rules-yaml.libsonnet';
local line = y.line;

{
  prometheusAlerts+:: {
    local cfg = $._config,
    groups+: [
      {
        name: 'braze-exporter.alerts',
        rules: [
          {
            alert: 'BrazeExporterDown',
            expr: 'up{%(jobSelector)s} == 0' % cfg,
            'for': '5m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Braze exporter {{ $labels.instance }} is down.',
              description: line(|||
                Prometheus has failed to scrape the braze exporter at {{ $labels.instance }}
                (job {{ $labels.job }}) for 5 minutes. Session metrics and BrazeSessionsDropped
                are blind until it is back.
              |||),
            },
          },
          {
            alert: 'BrazeSeriesFailing',
            expr: 'braze_up == 0',
            'for': '30m',
            labels: { severity: 'warning' },
            annotations: {
              summary: line(|||
                Braze series {{ $labels.app_name }}/{{ $labels.segment_name }}/{{ $labels.unit }}
                has been failing for 30 minutes.
              |||),
              description: line(|||
                Every fetch of app {{ $labels.app_name }}, segment {{ $labels.segment_name }},
                unit {{ $labels.unit }} from Braze has failed for 30 minutes (exporter
                {{ $labels.instance }}). Its session gauges show old data, then disappear.
                See braze_api_request_failures_total by reason and the exporter's log.
              |||),
            },
          },
          {
            comment:: 'The latest complete bucket is too old: older than 3 h (hour) or 2 days (day) at its start.',
            alert: 'BrazeSessionsDataStale',
            expr: |||
              braze:sessions:lag_seconds{unit="hour"} > %(staleHourSeconds)s
              or
              braze:sessions:lag_seconds{unit="day"} > %(staleDaySeconds)s
            ||| % cfg,
            'for': '15m',
            labels: { severity: 'warning' },
            annotations: {
              summary: line(|||
                Braze sessions for {{ $labels.app_name }}/{{ $labels.segment_name }}/{{ $labels.unit }}
                are stale.
              |||),
              description: line(|||
                The latest complete {{ $labels.unit }} of app {{ $labels.app_name }}, segment
                {{ $labels.segment_name }} ended {{ $value | humanizeDuration }} ago (exporter
                {{ $labels.instance }}); the limit is one bucket for day series and two hours for
                hour series. Braze is late, or the exporter fails to fetch or to refresh.
              |||),
            },
          },
          {
            comment:: |||
              No complete bucket at all: the exporter knows the series (braze_up is there) but serves
              no data for it, e.g. Braze returned none, or its data went stale and was dropped.
            |||,
            alert: 'BrazeSessionsDataMissing',
            expr: |||
              braze_up
              unless
              braze_sessions_bucket_timestamp_seconds
            |||,
            'for': '1h',
            labels: { severity: 'warning' },
            annotations: {
              summary: line(|||
                Braze sessions for {{ $labels.app_name }}/{{ $labels.segment_name }}/{{ $labels.unit }}
                are missing.
              |||),
              description: line(|||
                The exporter {{ $labels.instance }} has served no complete {{ $labels.unit }} for
                app {{ $labels.app_name }}, segment {{ $labels.segment_name }} for an hour
                (braze_up is {{ $value }}). Braze returned no data for it, or the data it had
                grew too old and was dropped.
              |||),
            },
          },
          {
            comment:: |||
              Sessions fell more than 50 % below the same bucket last week, over the whole last hour
              (so about two consecutive hourly buckets), and last week had at least 100 sessions in it
              (small segments swing too much to page on). max_over_time/min_over_time bridge the
              short gaps of braze:sessions:last_week around bucket changes.
            |||,
            alert: 'BrazeSessionsDropped',
            expr: |||
              max_over_time(braze:sessions:change_vs_last_week_ratio[1h]) < -%(sessionsDropRatio)s
              and
              min_over_time(braze:sessions:last_week[1h]) >= %(sessionsDropMinLastWeek)s
            ||| % cfg,
            'for': '30m',
            labels: { severity: 'critical' },
            annotations: {
              summary: line(|||
                Sessions of {{ $labels.app_name }}/{{ $labels.segment_name }} dropped
                {{ $value | humanizePercentage }} against the same {{ $labels.unit }} last week.
              |||),
              description: line(|||
                App {{ $labels.app_name }}, segment {{ $labels.segment_name }}: sessions per
                {{ $labels.unit }} have been at least 50 % below the same {{ $labels.unit }} one week
                earlier for more than an hour (change {{ $value | humanizePercentage }} at best).
                Check the app's releases, SDK session tracking, and Braze's status.
              |||),
            },
          },
          {
            comment:: |||
              Under 10 % of the workspace's hourly budget left before it resets. The gauges only move
              when the exporter calls Braze, so only alert while the announced reset is still ahead.
            |||,
            alert: 'BrazeRateLimitNearlyExhausted',
            expr: |||
              braze:api_rate_limit:remaining_ratio < %(rateLimitRemainingRatio)s
              and
              braze_api_rate_limit_reset_timestamp_seconds > time()
            ||| % cfg,
            'for': '5m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Braze REST API rate-limit budget nearly spent.',
              description: line(|||
                Only {{ $value | humanizePercentage }} of the Braze workspace's rate-limit budget is
                left (seen by exporter {{ $labels.instance }}). The budget is shared with every other
                integration of the workspace; when it runs out Braze answers 429 to all of them.
              |||),
            },
          },
          {
            alert: 'BrazeConfigReloadFailed',
            expr: 'braze_config_last_reload_successful == 0',
            'for': '5m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Braze exporter {{ $labels.instance }} failed to reload its configuration.',
              description: line(|||
                The last configuration reload of the braze exporter at {{ $labels.instance }} failed;
                it keeps running with the previous configuration. Run `braze-exporter --config.check`
                on the file and read the exporter's log.
              |||),
            },
          },
        ],
      },
    ],
  },
}
