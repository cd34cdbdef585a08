// Alerts of braze-exporter (group braze-exporter.alerts). Thresholds and the job selector come
// from _config (config.libsonnet).
local y = import 'lib/rules-yaml.libsonnet';
local line = y.line;

// A threshold ratio ('0.05') as a percentage for the descriptions ('5').
local pct(ratio) = '%g' % (std.parseJson(ratio) * 100);

// What a messaging alert is about: a campaign's channel, or a Canvas step's (in a sentence,
// and at its start).
local about(campaign) = std.join('', [
  '{{ if $labels.campaign }}%s {{ $labels.campaign }}' % campaign,
  '{{ else }}Canvas {{ $labels.canvas }} step {{ $labels.step }}{{ end }}',
]);
local subject = about('campaign');
local Subject = about('Campaign');

{
  prometheusAlerts+:: {
    local cfg = $._config,

    // A rate of `channel` on the latest complete day over _config[threshold], where that day
    // sent at least _config[minSent], and only while that day is yesterday (the campaign's or
    // Canvas's lag: ignoring(channel, step) pairs a campaign's channel, or a Canvas step's, with
    // its one bucket timestamp).
    local messagingDayAlert(ratio, threshold, minSent, channel) = |||
      %(ratio)s{channel="%(channel)s"} > %(threshold)s
      and
      braze:message_sent:sum{channel="%(channel)s"} >= %(minSent)s
      and ignoring(channel, step)
      braze:messaging:lag_seconds <= %(maxLag)s
    ||| % {
      ratio: ratio,
      channel: channel,
      threshold: cfg[threshold],
      minSent: cfg[minSent],
      maxLag: cfg.messagingDayMaxLagSeconds,
    },
    groups+: [
      {
        name: 'braze-exporter.alerts',
        rules: [r { annotations+: { runbook_url: cfg.runbookURLPattern % std.asciiLower(r.alert) } } for r in [
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
            // ignoring(kind): braze_up carries a kind label the data gauges do not.
            expr: |||
              braze_up{kind="sessions"}
              unless ignoring(kind)
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
                Only {{ $value | humanizePercentage }} of the Braze workspace's rate-limit budget of
                the {{ $labels.pool }} pool is left (seen by exporter {{ $labels.instance }}). The
                budget is shared with every other integration of the workspace; when it runs out
                Braze answers 429 to all of them on that pool's endpoints.
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
          {
            alert: 'BrazeApiKeyReloadFailed',
            expr: 'braze_api_key_last_reload_successful == 0',
            'for': '5m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Braze exporter {{ $labels.instance }} cannot use its changed API key file.',
              description: line(|||
                The API key file of the braze exporter at {{ $labels.instance }} changed but holds
                no usable key; the exporter keeps sending the previous key, which Braze refuses
                once it is revoked. The exporter's log names the file and why.
              |||),
            },
          },

          {
            comment:: |||
              The other kinds' BrazeSessionsDataMissing: braze_up is there, the kind's data gauge
              is not (an event nobody sent, a product never bought in the window, a segment
              without analytics tracking...).
            |||,
            alert: 'BrazeDataMissing',
            expr: std.join('or\n', [
              'braze_up{kind="%(k)s"} unless ignoring(kind) braze_%(k)s_bucket_timestamp_seconds\n' % { k: k }
              for k in ['dau', 'mau', 'new_users', 'uninstalls', 'events', 'purchases', 'purchase_revenue', 'segment_size']
            ]),
            'for': '2h',
            labels: { severity: 'info' },
            annotations: {
              summary: 'Braze {{ $labels.kind }} data missing for a series fetched without error.',
              description: line(|||
                The exporter {{ $labels.instance }} fetches a {{ $labels.kind }} series (app
                "{{ $labels.app_name }}", segment "{{ $labels.segment_name }}", event
                "{{ $labels.event }}", product "{{ $labels.product }}", unit {{ $labels.unit }};
                empty where the kind has no such label) without error, but has served no complete
                bucket for it for 2 hours. Braze returned no data points for it, or they grew too
                old and were dropped.
              |||),
            },
          },
          {
            comment:: |||
              DAU of the latest complete day fell more than 30 % below the same day last week, and
              last week had at least 1000 daily active users. The day series changes once a day,
              at the first refresh after Braze has the day; max_over_time/min_over_time over 2 h
              bridge the gap of up to one refresh interval (kpis refresh hourly) after the change,
              where last week's day had not switched yet, and `for: 1h` waits for one more refresh.
            |||,
            alert: 'BrazeDauDropped',
            expr: |||
              max_over_time(braze:dau:change_vs_last_week_ratio[2h]) < -%(dauDropRatio)s
              and
              min_over_time(braze:dau:last_week[2h]) >= %(dauDropMinLastWeek)s
            ||| % cfg,
            'for': '1h',
            labels: { severity: 'warning' },
            annotations: {
              summary: line(|||
                DAU of {{ $labels.app_name }} dropped {{ $value | humanizePercentage }} against the
                same day last week.
              |||),
              description: line(|||
                App {{ $labels.app_name }}: daily active users of the latest complete day are at
                least %(pct)s %% below the same day one week earlier (change
                {{ $value | humanizePercentage }} at best over the last 2 hours). Check the app's
                releases, SDK initialisation and Braze's status.
              ||| % { pct: std.toString(std.parseJson(cfg.dauDropRatio) * 100) }),
            },
          },
          {
            comment:: |||
              Revenue of the latest complete day (day series: export.purchases.unit: day) fell more
              than 50 % below the same day last week, where last week had at least 1000 of the
              workspace's currency, per product ("all" is every product) and app. As
              BrazeDauDropped for the windows.
            |||,
            alert: 'BrazeRevenueDropped',
            expr: |||
              max_over_time(braze:purchase_revenue:change_vs_last_week_ratio{unit="day"}[2h]) < -%(revenueDropRatio)s
              and
              min_over_time(braze:purchase_revenue:last_week{unit="day"}[2h]) >= %(revenueDropMinLastWeek)s
            ||| % cfg,
            'for': '1h',
            labels: { severity: 'warning' },
            annotations: {
              summary: line(|||
                Revenue of {{ $labels.product }} in {{ $labels.app_name }} dropped
                {{ $value | humanizePercentage }} against the same day last week.
              |||),
              description: line(|||
                Product {{ $labels.product }}, app {{ $labels.app_name }}: revenue of the latest
                complete day is at least %(pct)s %% below the same day one week earlier (change
                {{ $value | humanizePercentage }} at best over the last 2 hours). Check the
                store's and payment provider's status, the app's purchase flow and its releases.
              ||| % { pct: std.toString(std.parseJson(cfg.revenueDropRatio) * 100) }),
            },
          },
          {
            comment:: |||
              Opt-in: the events eventStopSelector (mixin/config.libsonnet) picks; by default none.
              Zero occurrences in every complete hour of the last eventStopHours hours, or in the
              latest complete day.
            |||,
            alert: 'BrazeEventStopped',
            expr: |||
              max_over_time(braze_events{unit="hour", %(eventStopSelector)s}[%(eventStopHours)sh]) == 0
              or
              braze_events{unit="day", %(eventStopSelector)s} == 0
            ||| % cfg,
            'for': '15m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Braze event {{ $labels.event }} stopped in {{ $labels.app_name }}/{{ $labels.segment_name }}.',
              description: line(|||
                Event {{ $labels.event }} (app {{ $labels.app_name }}, segment {{ $labels.segment_name }})
                has counted 0 in every complete {{ $labels.unit }} Braze reported recently
                (exporter {{ $labels.instance }}). Check the release that sends it, its SDK call
                and its name in Braze.
              |||),
            },
          },

          {
            comment:: |||
              Opt-in: the campaigns campaignStopSelector (mixin/config.libsonnet) picks; by default
              none. A campaign that sent on every one of the 7 days before its latest complete day
              (each 1-day window of braze:campaign_sent:sum, 1 to 7 days back, has samples and
              none of them is 0: a day the exporter has no sample for proves nothing, so it keeps
              the alert quiet) sent nothing on that day, and that day is yesterday (a missing
              day, where the gauges still show the day before, is not "nothing"). "Nothing" is a
              0 or no sent sample at all, as Braze may answer a day without messages.
            |||,
            alert: 'BrazeCampaignStoppedSending',
            expr: std.join('and\n', [
              'min_over_time(braze:campaign_sent:sum{%s}[1d] offset %dd) > 0\n' % [cfg.campaignStopSelector, d]
              for d in std.range(1, 7)
            ]) + |||
              and
              (
                braze:messaging:lag_seconds{%(campaignStopSelector)s, send_id=""} <= %(messagingDayMaxLagSeconds)s
                unless
                braze:campaign_sent:sum{%(campaignStopSelector)s} > 0
              )
            ||| % cfg,
            'for': '1h',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Braze campaign {{ $labels.campaign }} sent nothing yesterday.',
              description: line(|||
                Campaign {{ $labels.campaign }} sent messages on each of the 7 days before its latest
                complete day ({{ $value }} or more on the day before it) and none on that
                day (exporter {{ $labels.instance }}). Check whether it was stopped, archived or
                edited in Braze, its schedule, trigger and audience, and for API campaigns the
                service that calls Braze.
              |||),
            },
          },
          {
            comment:: |||
              Email bounce rate of the latest complete day (yesterday) over emailBounceRatio, per
              campaign (or Canvas step), where that day sent at least emailBounceMinSent emails.
            |||,
            alert: 'BrazeEmailBounceRateHigh',
            expr: messagingDayAlert('braze:message_bounced:ratio', 'emailBounceRatio', 'emailBounceMinSent', 'email'),
            'for': '30m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Braze email bounce rate of %s is {{ $value | humanizePercentage }}.' % subject,
              description: line(|||
                %(subject)s: {{ $value | humanizePercentage }} of the emails sent on the latest complete
                day bounced (over %(pct)s %%, with at least %(min)s sent; exporter {{ $labels.instance }}).
                Mailbox providers throttle or block senders that bounce this much. Look for a new
                or imported audience, a changed sending domain, or a template that breaks.
              ||| % { subject: Subject, pct: pct(cfg.emailBounceRatio), min: cfg.emailBounceMinSent }),
            },
          },
          {
            comment:: |||
              Spam complaint rate of the latest complete day (yesterday) over emailSpamRatio, per
              campaign (or Canvas step), where that day sent at least emailSpamMinSent emails.
            |||,
            alert: 'BrazeEmailSpamRateHigh',
            expr: messagingDayAlert('braze:message_spam_reported:ratio', 'emailSpamRatio', 'emailSpamMinSent', 'email'),
            'for': '30m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Braze email spam rate of %s is {{ $value | humanizePercentage }}.' % subject,
              description: line(|||
                %(subject)s: {{ $value | humanizePercentage }} of the emails sent on the latest complete
                day were reported as spam (over %(pct)s %%, with at least %(min)s sent; exporter
                {{ $labels.instance }}). Gmail and Yahoo filter or reject bulk senders at a 0.3 %%
                spam rate. Look at who was targeted, how they opted in, and the unsubscribe link.
              ||| % { subject: Subject, pct: pct(cfg.emailSpamRatio), min: cfg.emailSpamMinSent }),
            },
          },
          {
            comment:: |||
              SMS failed delivery rate of the latest complete day (yesterday) over smsFailureRatio,
              per campaign (or Canvas step), where that day sent at least smsFailureMinSent SMS.
            |||,
            alert: 'BrazeSmsDeliveryFailing',
            expr: messagingDayAlert('braze:message_delivery_failed:ratio', 'smsFailureRatio', 'smsFailureMinSent', 'sms'),
            'for': '30m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Braze SMS delivery failures of %s at {{ $value | humanizePercentage }}.' % subject,
              description: line(|||
                %(subject)s: Braze could not hand {{ $value | humanizePercentage }} of the SMS sent on
                the latest complete day to the carrier (over %(pct)s %%, with at least %(min)s sent;
                exporter {{ $labels.instance }}). Check the subscription group's sending numbers, the
                SMS provider's status and the message's length and content.
              ||| % { subject: Subject, pct: pct(cfg.smsFailureRatio), min: cfg.smsFailureMinSent }),
            },
          },
          {
            comment:: |||
              Webhook error rate of the latest complete day (yesterday) over webhookErrorRatio, per
              campaign (or Canvas step), where that day sent at least webhookErrorMinSent webhooks.
            |||,
            alert: 'BrazeWebhookErrors',
            expr: messagingDayAlert('braze:message_errored:ratio', 'webhookErrorRatio', 'webhookErrorMinSent', 'webhook'),
            'for': '30m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Braze webhooks of %s failing at {{ $value | humanizePercentage }}.' % subject,
              description: line(|||
                %(subject)s: {{ $value | humanizePercentage }} of the webhooks sent on the latest
                complete day ended in an error (over %(pct)s %%, with at least %(min)s sent; exporter
                {{ $labels.instance }}). The endpoint refused them, timed out or was unreachable:
                check its logs and status, its certificate, and the webhook's URL and headers in Braze.
              ||| % { subject: Subject, pct: pct(cfg.webhookErrorRatio), min: cfg.webhookErrorMinSent }),
            },
          },
          {
            comment:: |||
              Entries of a Canvas (Braze's total, variant="all") on the latest complete day fell
              more than canvasEntriesDropRatio below the same day last week, which had at least
              canvasEntriesDropMinLastWeek entries. As BrazeDauDropped for the windows; a missing
              day compares nothing (braze:canvas_entries:last_week checks both days line up).
            |||,
            alert: 'BrazeCanvasEntriesDropped',
            expr: |||
              max_over_time(braze:canvas_entries:change_vs_last_week_ratio{variant="all"}[2h]) < -%(canvasEntriesDropRatio)s
              and
              min_over_time(braze:canvas_entries:last_week{variant="all"}[2h]) >= %(canvasEntriesDropMinLastWeek)s
            ||| % cfg,
            'for': '1h',
            labels: { severity: 'warning' },
            annotations: {
              summary: line(|||
                Entries of Canvas {{ $labels.canvas }} dropped {{ $value | humanizePercentage }}
                against the same day last week.
              |||),
              description: line(|||
                Canvas {{ $labels.canvas }}: entries of the latest complete day are at least %(pct)s %%
                below the same day one week earlier (change {{ $value | humanizePercentage }} at best
                over the last 2 hours; exporter {{ $labels.instance }}). Check its entry schedule or
                trigger, the entry audience and segment, its rate limits, and whether it was stopped
                or edited.
              ||| % { pct: pct(cfg.canvasEntriesDropRatio) }),
            },
          },
        ]],
      },
    ],
  },
}
