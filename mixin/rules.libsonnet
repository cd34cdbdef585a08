// Recording rules of braze-exporter (group braze-exporter.recording). None aggregates across
// series: every label (app_name, segment_name, event, product, unit, and workspace when the
// exporter has several) is kept, so "all" series are never added to named ones.
local q = import 'lib/promql.libsonnet';

{
  prometheusRules+:: {
    groups+: [
      {
        name: 'braze-exporter.recording',
        rules: [
          {
            comment:: |||
              Sessions in the same bucket one week earlier. braze_sessions holds the latest complete
              bucket for about one bucket length, so `offset 1w` reads what the exporter reported at
              the same point of the same hour (or day) last week: both sides are equally "settled",
              which keeps a still-settling hour from looking like a drop.
              The `and` keeps only the samples where last week's bucket really is this bucket minus
              one week (the bucket changes at a slightly different minute every hour, so for a few
              minutes after a change the two sides would otherwise be an hour apart); the short gaps
              this leaves are bridged by the dashboard and by max_over_time in BrazeSessionsDropped.
            |||,
            record: 'braze:sessions:last_week',
            expr: |||
              braze_sessions{unit="hour"} offset 1w
              and
              (
                braze_sessions_bucket_timestamp_seconds{unit="hour"} offset 1w
                == braze_sessions_bucket_timestamp_seconds{unit="hour"} - 604800
              )
              or
              # Day buckets start at midnight in the company time zone: across a daylight-saving
              # change the same weekday last week started 3600 s earlier or later than 604800 s ago.
              braze_sessions{unit="day"} offset 1w
              and
              (
                abs(
                  braze_sessions_bucket_timestamp_seconds{unit="day"} offset 1w
                  - (braze_sessions_bucket_timestamp_seconds{unit="day"} - 604800)
                ) <= 3600
              )
            |||,
          },
          {
            comment:: |||
              Relative change against the same bucket last week: -0.25 means 25 % fewer sessions.
              Absent when last week had no sessions (no meaningful ratio).
            |||,
            record: 'braze:sessions:change_vs_last_week_ratio',
            expr: |||
              (braze_sessions - braze:sessions:last_week)
              /
              (braze:sessions:last_week > 0)
            |||,
          },
          {
            comment:: |||
              How long ago the latest complete bucket ended (its start + its length), in seconds.
              0 would mean perfectly fresh; an hourly series normally reads 0 to ~1 h plus Braze's delay.
            |||,
            record: 'braze:sessions:lag_seconds',
            expr: |||
              time() - braze_sessions_bucket_timestamp_seconds{unit="hour"} - 3600
              or
              time() - braze_sessions_bucket_timestamp_seconds{unit="day"} - 86400
            |||,
          },
          {
            comment:: "Share of the workspace's Braze rate-limit budget left in the current window (0 to 1).",
            record: 'braze:api_rate_limit:remaining_ratio',
            expr: 'braze_api_rate_limit_remaining / (braze_api_rate_limit_limit > 0)',
          },

          {
            comment:: |||
              DAU of the same day one week earlier (day series only), and the relative change
              against it: as braze:sessions:last_week, per app.
            |||,
            record: 'braze:dau:last_week',
            expr: q.lastWeek('braze_dau', ['day']),
          },
          {
            record: 'braze:dau:change_vs_last_week_ratio',
            expr: q.changeRatio('braze_dau', 'braze:dau:last_week'),
          },
          {
            comment:: |||
              Stickiness: daily over monthly active users of the latest complete day, per app
              (0 to 1). Absent when MAU is 0.
            |||,
            record: 'braze:dau_per_mau:ratio',
            expr: 'braze_dau / (braze_mau > 0)',
          },
          {
            comment:: |||
              Revenue of the same bucket one week earlier (hour or day, as the purchases export
              is configured), and the relative change against it, per product and app.
            |||,
            record: 'braze:purchase_revenue:last_week',
            expr: q.lastWeek('braze_purchase_revenue'),
          },
          {
            record: 'braze:purchase_revenue:change_vs_last_week_ratio',
            expr: q.changeRatio('braze_purchase_revenue', 'braze:purchase_revenue:last_week'),
          },
        ],
      },
    ],
  },
}
