// Recording rules of braze-exporter (group braze-exporter.recording). None aggregates across
// series that overlap: every label (app_name, segment_name, event, product, unit, campaign,
// canvas, variant, step, and workspace when the exporter has several) is kept, so "all" series
// are never added to named ones. The messaging rules sum only what Braze splits into disjoint
// parts: a campaign's variations (and channels, for its total sent) and a Canvas step's channels.
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

          // Messaging: the latest complete day (the plain gauges; `_in_progress` is today so
          // far). The braze:message_* rules hold campaigns (labels campaign and channel, the
          // variations summed) and Canvas steps (canvas, step and channel; with
          // export.canvases.steps) side by side, so one alert watches both.
          {
            comment:: |||
              Messages sent per campaign and channel, and per Canvas step and channel: the volume
              the rate alerts' floors read.
            |||,
            record: 'braze:message_sent:sum',
            expr: |||
              sum without (variation) (braze_campaign_message_sent)
              or
              braze_canvas_step_message_sent
            |||,
          },
          {
            comment:: 'Delivery rate: delivered / sent (email, SMS, WhatsApp).',
            record: 'braze:message_delivered:ratio',
            expr: q.messageRatio('delivered', 'sent'),
          },
          {
            comment:: "Bounce rate: bounces / sent (email, push): Braze's \"Bounce Rate\".",
            record: 'braze:message_bounced:ratio',
            expr: q.messageRatio('bounces', 'sent'),
          },
          {
            comment:: "Unique open rate: unique_opens / delivered (email), as Braze computes it.",
            record: 'braze:message_unique_opened:ratio',
            expr: q.messageRatio('unique_opens', 'delivered'),
          },
          {
            comment:: "Unique click rate: unique_clicks / delivered (email), as Braze computes it.",
            record: 'braze:message_unique_clicked:ratio',
            expr: q.messageRatio('unique_clicks', 'delivered'),
          },
          {
            comment:: |||
              Direct open rate of push: direct opens / deliveries, Braze's calculation, with
              deliveries = sent - bounces (Braze's "Deliveries %"; push answers carry no delivered
              count). Canvas steps call direct opens `opens` (their `influenced_opens` is the total).
            |||,
            record: 'braze:message_direct_opened:ratio',
            expr: |||
              sum without (variation) (braze_campaign_message_direct_opens)
              /
              (sum without (variation) (braze_campaign_message_sent - braze_campaign_message_bounces) > 0)
              or
              braze_canvas_step_message_opens{channel=~".+_push"}
              /
              (braze_canvas_step_message_sent - braze_canvas_step_message_bounces > 0)
            |||,
          },
          {
            comment:: |||
              Spam rate: reported_spam / sent (email): Braze's "Spam Rate". Braze counts only what
              the mailbox providers' feedback loops report.
            |||,
            record: 'braze:message_spam_reported:ratio',
            expr: q.messageRatio('reported_spam', 'sent'),
          },
          {
            comment:: |||
              SMS failed delivery rate: delivery_failed / sent: Braze's "Failed Delivery Rate"
              (messages Braze could not hand to the carrier).
            |||,
            record: 'braze:message_delivery_failed:ratio',
            expr: q.messageRatio('delivery_failed', 'sent'),
          },
          {
            comment:: 'Webhook error rate: errors / sent (errors count in sent, Braze says).',
            record: 'braze:message_errored:ratio',
            expr: q.messageRatio('errors', 'sent'),
          },
          {
            comment:: |||
              Messages a campaign sent on its latest complete day, every channel and variation
              summed: BrazeCampaignStoppedSending reads it over the 7 days before.
            |||,
            record: 'braze:campaign_sent:sum',
            expr: 'sum without (channel, variation) (braze_campaign_message_sent)',
          },
          {
            comment:: |||
              The Canvas step funnel: messages sent per step, its channels summed, with a label
              step_order that sorts the steps: the Canvas, the first number standing alone in the
              step's name zero-padded to 3 digits ("Day 3 push" -> 003; "~" when the name has
              none, after the numbered ones), and the name. Braze gives no step order, only names.
            |||,
            record: 'braze:canvas_step_sent:sum',
            expr: |||
              label_replace(
                label_join(
                  label_replace(label_replace(label_replace(label_replace(
                    sum without (channel) (braze_canvas_step_message_sent),
                    "step_number", "~", "step", ".*"),
                    "step_number", "00$1", "step", `(?:|.*?\W)(\d)(?:\W.*)?`),
                    "step_number", "0$1", "step", `(?:|.*?\W)(\d\d)(?:\W.*)?`),
                    "step_number", "$1", "step", `(?:|.*?\W)(\d\d\d)(?:\W.*)?`),
                  "step_order", " / ", "canvas", "step_number", "step"),
                "step_number", "", "step_number", ".*")
            |||,
          },
          {
            comment:: |||
              How long ago the latest complete day of each campaign, Canvas and API send ended, in
              seconds: under 86400 while it is yesterday. The messaging alerts read it to judge
              only yesterday.
            |||,
            record: 'braze:messaging:lag_seconds',
            expr: |||
              time() - braze_campaign_bucket_timestamp_seconds - 86400
              or
              time() - braze_canvas_bucket_timestamp_seconds - 86400
              or
              time() - braze_send_bucket_timestamp_seconds - 86400
            |||,
          },
          {
            comment:: |||
              Canvas entries of the same day one week earlier, per variant (variant="all" is
              Braze's own total), and the relative change against it: as braze:dau:last_week.
            |||,
            record: 'braze:canvas_entries:last_week',
            expr: q.canvasLastWeek('braze_canvas_entries'),
          },
          {
            record: 'braze:canvas_entries:change_vs_last_week_ratio',
            expr: q.changeRatio('braze_canvas_entries', 'braze:canvas_entries:last_week'),
          },
        ],
      },
    ],
  },
}
