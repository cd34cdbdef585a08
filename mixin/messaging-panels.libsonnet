// The dashboard's Messaging rows: campaigns, Canvases and API sends. Every value is the latest
// complete day of the company time zone (the plain gauges, held all day, so the lines step once
// a day; `_in_progress` is today so far and is not drawn). Rates come from the recording rules
// (rules.libsonnet), which the alerts read too.
//
// A function of `e` (dashboards.libsonnet's expression filler: %(w)s selects the job and the
// workspace) and the mixin's _config; returns { panels, height } with y relative to the first row.
local g = import 'lib/grafana.libsonnet';

function(e, cfg)
  local ts = g.timeseries;
  local range = g.range;
  local instant = g.instant;
  local row = g.row;

  // The braze:message_* rules hold campaigns (campaign, channel) and Canvas steps (canvas, step,
  // channel) side by side: union(m, x) selects the campaigns the Campaign variable picks and the
  // Canvas steps the Canvas variable picks (a series of one has no label of the other), x being
  // further matchers.
  local union(metric, extra='') =
    metric + '{%(w)s, campaign=~"$campaign", canvas=""' + extra + '}\nor\n'
    + metric + '{%(w)s, canvas=~"$canvas", campaign=""' + extra + '}';
  // The same for a message field's count: campaigns with their variations summed.
  local countUnion(field, channel) = |||
    sum without (variation) (braze_campaign_message_%(f)s{%%(w)s, campaign=~"$campaign", channel="%(c)s"})
    or
    braze_canvas_step_message_%(f)s{%%(w)s, canvas=~"$canvas", channel="%(c)s"}
  ||| % { f: field, c: channel };
  local who = '{{campaign}}{{canvas}} {{step}}';
  local number(s) = std.parseJson(s);
  local percent(ratio) = '%g' % (number(ratio) * 100);

  // A red line at an alert's threshold.
  local thresholdLine(value) = {
    fieldConfig+: {
      defaults+: {
        custom+: { thresholdsStyle: { mode: 'line' } },
        thresholds: {
          mode: 'absolute',
          steps: [{ color: 'transparent', value: null }, { color: 'red', value: value }],
        },
      },
    },
  };
  local dashed(refId) = {
    fieldConfig+: {
      overrides+: [{
        matcher: { id: 'byFrameRefID', options: refId },
        properties: [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }],
      }],
    },
  };
  local rate(id, title, description, gridPos, targets) =
    ts(id, title, description, gridPos, targets, unit='percentunit');

  local campaigns = [
    row(47, 'Messaging: campaigns (latest complete day)', 0),
    ts(48,
       'Messages sent per campaign and channel',
       'Messages each campaign sent on the latest complete day of the company time zone, per channel, its variations summed (recording rule braze:message_sent:sum). Pick campaigns and channels with the Campaign and Channel variables. BrazeCampaignStoppedSending (opt-in) fires when a campaign that sent every day sends nothing.',
       { h: 8, w: 12, x: 0, y: 1 },
       [
         range('A', e('braze:message_sent:sum{%(w)s, campaign=~"$campaign", canvas="", channel=~"$channel"}'), '{{campaign}} · {{channel}}'),
       ]),
    rate(49,
         'Delivery rate (delivered / sent)',
         'Share of the messages sent on the latest complete day that were delivered, per campaign and channel, and per Canvas step and channel (email, SMS, WhatsApp: the channels Braze counts deliveries of; recording rule braze:message_delivered:ratio).',
         { h: 8, w: 12, x: 12, y: 1 },
         [
           range('A', e(union('braze:message_delivered:ratio', ', channel=~"$channel"')), who + ' · {{channel}}'),
         ]),
    ts(50,
       'Conversions per campaign (events A to D)',
       "Conversions of the latest complete day per campaign and conversion event (A is the campaign's primary conversion event, B to D the next ones; braze_campaign_conversions). Braze restates a day for days after it: attributed conversions keep arriving.",
       { h: 8, w: 12, x: 0, y: 9 },
       [
         range('A', e('braze_campaign_conversions{%(w)s, campaign=~"$campaign"}'), '{{campaign}} · {{conversion_event}}'),
       ]),
    ts(51,
       'Revenue per campaign',
       "Revenue attributed to each campaign on the latest complete day, in the workspace's currency (braze_campaign_revenue); restated as conversions are.",
       { h: 8, w: 12, x: 12, y: 9 },
       [
         range('A', e('braze_campaign_revenue{%(w)s, campaign=~"$campaign"}'), '{{campaign}}'),
       ]),
    ts(52,
       'API sends: sent and delivered',
       'Messages of each configured API send (export.sends) on its latest complete day, per channel, variations summed (braze_send_message_sent solid, braze_send_message_delivered dashed). Braze keeps send analytics 14 days after the send.',
       { h: 8, w: 12, x: 0, y: 17 },
       [
         range('A', e('sum without (variation) (braze_send_message_sent{%(w)s, campaign=~"$campaign", channel=~"$channel"})'), 'sent {{campaign}} / {{send_id}} · {{channel}}'),
         range('B', e('sum without (variation) (braze_send_message_delivered{%(w)s, campaign=~"$campaign", channel=~"$channel"})'), 'delivered {{campaign}} / {{send_id}} · {{channel}}'),
       ]) + dashed('B'),
    ts(53,
       'Messaging data lag',
       'How long ago the latest complete day of each campaign, Canvas and API send ended (recording rule braze:messaging:lag_seconds): under a day while it is yesterday. The messaging alerts judge a day only while this is under the red line (messagingDayMaxLagSeconds).',
       { h: 8, w: 12, x: 12, y: 17 },
       [
         range('A', e(union('braze:messaging:lag_seconds')), '{{campaign}}{{canvas}} {{send_id}}'),
       ],
       unit='s') + thresholdLine(number(cfg.messagingDayMaxLagSeconds)),
  ];

  local email = [
    row(54, 'Messaging: email and push', 25),
    rate(55,
         'Email bounce rate',
         "bounces / sent of the latest complete day, per campaign and per Canvas step (recording rule braze:message_bounced:ratio). The red line is BrazeEmailBounceRateHigh's threshold, %s %% (it also needs %s emails sent that day)." % [percent(cfg.emailBounceRatio), cfg.emailBounceMinSent],
         { h: 8, w: 8, x: 0, y: 26 },
         [
           range('A', e(union('braze:message_bounced:ratio', ', channel="email"')), who),
         ]) + thresholdLine(number(cfg.emailBounceRatio)),
    rate(56,
         'Email spam complaint rate',
         "reported_spam / sent of the latest complete day, per campaign and per Canvas step (recording rule braze:message_spam_reported:ratio; Braze sees only the complaints the providers' feedback loops report). The red line is BrazeEmailSpamRateHigh's threshold, %s %% (it also needs %s emails sent that day)." % [percent(cfg.emailSpamRatio), cfg.emailSpamMinSent],
         { h: 8, w: 8, x: 8, y: 26 },
         [
           range('A', e(union('braze:message_spam_reported:ratio', ', channel="email"')), who),
         ]) + thresholdLine(number(cfg.emailSpamRatio)),
    rate(57,
         'Email unique open and click rates',
         'Unique opens / delivered (solid) and unique clicks / delivered (dashed) of the latest complete day, as Braze computes them (recording rules braze:message_unique_opened:ratio, braze:message_unique_clicked:ratio). Braze counts unique opens and clicks over 7 days: a day keeps rising after it ends.',
         { h: 8, w: 8, x: 16, y: 26 },
         [
           range('A', e(union('braze:message_unique_opened:ratio', ', channel="email"')), 'opens ' + who),
           range('B', e(union('braze:message_unique_clicked:ratio', ', channel="email"')), 'clicks ' + who),
         ]) + dashed('B'),
    ts(58,
       'Email unsubscribes and spam complaints',
       'Unsubscribes (solid) and spam complaints (dashed) of the latest complete day, per campaign (variations summed) and per Canvas step (braze_campaign_message_unsubscribes, braze_campaign_message_reported_spam and their Canvas step twins).',
       { h: 8, w: 12, x: 0, y: 34 },
       [
         range('A', e(countUnion('unsubscribes', 'email')), 'unsubscribes ' + who),
         range('B', e(countUnion('reported_spam', 'email')), 'spam ' + who),
       ]) + dashed('B'),
    rate(59,
         'Push direct open rate',
         'Direct opens / deliveries of the latest complete day, per push channel, with deliveries = sent - bounces as Braze computes them (push answers carry no delivered count; recording rule braze:message_direct_opened:ratio).',
         { h: 8, w: 12, x: 12, y: 34 },
         [
           range('A', e(union('braze:message_direct_opened:ratio', ', channel=~"$channel"')), who + ' · {{channel}}'),
         ]),
  ];

  local smsAndWebhooks = [
    row(60, 'Messaging: SMS and webhooks', 42),
    rate(61,
         'SMS failed delivery rate',
         "delivery_failed / sent of the latest complete day (Braze's \"Failed Delivery Rate\": SMS it could not hand to the carrier), per campaign and per Canvas step (recording rule braze:message_delivery_failed:ratio). The red line is BrazeSmsDeliveryFailing's threshold, %s %% (it also needs %s SMS sent that day)." % [percent(cfg.smsFailureRatio), cfg.smsFailureMinSent],
         { h: 8, w: 6, x: 0, y: 43 },
         [
           range('A', e(union('braze:message_delivery_failed:ratio', ', channel="sms"')), who),
         ]) + thresholdLine(number(cfg.smsFailureRatio)),
    ts(62,
       'SMS delivery failures, rejections and opt-outs',
       'Counts of the latest complete day per campaign (variations summed) and per Canvas step: delivery failures (not handed to the carrier), rejections (refused by the carrier) and opt-outs (replies such as STOP).',
       { h: 8, w: 6, x: 6, y: 43 },
       [
         range('A', e(countUnion('delivery_failed', 'sms')), 'failed ' + who),
         range('B', e(countUnion('rejected', 'sms')), 'rejected ' + who),
         range('C', e(countUnion('opt_out', 'sms')), 'opt-outs ' + who),
       ]),
    rate(63,
         'Webhook error rate',
         "errors / sent of the latest complete day, per campaign and per Canvas step (recording rule braze:message_errored:ratio). The red line is BrazeWebhookErrors' threshold, %s %% (it also needs %s webhooks sent that day)." % [percent(cfg.webhookErrorRatio), cfg.webhookErrorMinSent],
         { h: 8, w: 6, x: 12, y: 43 },
         [
           range('A', e(union('braze:message_errored:ratio', ', channel="webhook"')), who),
         ]) + thresholdLine(number(cfg.webhookErrorRatio)),
    ts(64,
       'Webhook errors',
       'Webhooks that ended in an error (refused by the endpoint, timed out, unreachable) on the latest complete day, per campaign (variations summed) and per Canvas step. Braze counts errors among the sends.',
       { h: 8, w: 6, x: 18, y: 43 },
       [
         range('A', e(countUnion('errors', 'webhook')), who),
       ]),
  ];

  local canvases = [
    row(65, 'Messaging: Canvases', 51),
    ts(66,
       'Canvas entries per variant',
       'Users who entered each Canvas on the latest complete day, per variant (braze_canvas_entries). The variant named "all" (drawn thick) is Braze\'s own total: it also counts variants since removed, so never add it to the others.',
       { h: 8, w: 12, x: 0, y: 52 },
       [
         range('A', e('braze_canvas_entries{%(w)s, canvas=~"$canvas"}'), '{{canvas}} / {{variant}}'),
       ]) + {
      fieldConfig+: {
        overrides+: [{
          matcher: { id: 'byRegexp', options: '.* / all$' },
          properties: [{ id: 'custom.lineWidth', value: 4 }],
        }],
      },
    },
    ts(67,
       'Canvas entries vs the same day last week',
       'Solid: total entries of each Canvas (variant "all") on the latest complete day. Dashed: the same day one week earlier (recording rule braze:canvas_entries:last_week). BrazeCanvasEntriesDropped fires when entries stay more than %s %% below it.' % percent(cfg.canvasEntriesDropRatio),
       { h: 8, w: 12, x: 12, y: 52 },
       [
         range('A', e('braze_canvas_entries{%(w)s, canvas=~"$canvas", variant="all"}'), '{{canvas}}'),
         range('B', e('braze:canvas_entries:last_week{%(w)s, canvas=~"$canvas", variant="all"}'), '{{canvas}} last week'),
       ]) + dashed('B'),
    ts(68,
       'Canvas conversions per variant',
       'Conversions of the latest complete day per Canvas, variant and conversion event (braze_canvas_conversions; variant "all" is Braze\'s total: never add it to the others). Restated for days after, as campaign conversions.',
       { h: 8, w: 12, x: 0, y: 60 },
       [
         range('A', e('braze_canvas_conversions{%(w)s, canvas=~"$canvas"}'), '{{canvas}} / {{variant}} · {{conversion_event}}'),
       ]),
    g.panel('table',
            69,
            'Canvas step funnel: messages sent per step',
            'Messages each step of a Canvas sent on the latest complete day, its channels summed (recording rule braze:canvas_step_sent:sum; needs export.canvases.steps: true). Steps are in the order of the first number standing alone in their names ("Day 1 email", "Day 3 push"), the others after them by name: Braze gives no step order.',
            { h: 8, w: 12, x: 12, y: 60 },
            [
              instant('A', e('braze:canvas_step_sent:sum{%(w)s, canvas=~"$canvas"}'), '__auto') + { format: 'table' },
            ]) + {
      fieldConfig: {
        defaults: { custom: { align: 'auto', cellOptions: { type: 'auto' } } },
        overrides: [{
          matcher: { id: 'byName', options: 'Sent' },
          properties: [
            { id: 'custom.cellOptions', value: { type: 'gauge', mode: 'basic' } },
            { id: 'color', value: { mode: 'fixed', fixedColor: 'blue' } },
            { id: 'min', value: 0 },
          ],
        }],
      },
      options: { showHeader: true, cellHeight: 'sm' },
      transformations: [
        { id: 'sortBy', options: { fields: {}, sort: [{ field: 'step_order', desc: false }] } },
        {
          id: 'organize',
          options: {
            excludeByName: { Time: true, __name__: true, job: true, instance: true, workspace: true, step_order: true },
            indexByName: { canvas: 0, step: 1, Value: 2 },
            renameByName: { canvas: 'Canvas', step: 'Step', Value: 'Sent' },
          },
        },
      ],
    },
  ];

  {
    panels: campaigns + email + smsAndWebhooks + canvases,
    height: 68,
  }
