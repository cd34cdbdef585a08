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

    // Messaging alerts (campaigns, and Canvas steps when export.canvases.steps is on) judge the
    // latest complete day, and only while it is yesterday: a campaign's gauges keep the last
    // day Braze answered, so without this an old day would page on for ever when Braze stops
    // answering the new one. The day before yesterday still counts during the first 6 hours
    // of today (our choice: time for Braze to have the day and for the exporter's hourly
    // refresh, or a `delay`, to fetch it, so the alerts do not resolve and fire again each
    // night). Seconds since the latest complete day ended (braze:messaging:lag_seconds): 30 h.
    messagingDayMaxLagSeconds: '108000',

    // BrazeEmailBounceRateHigh: bounces / sent (Braze's "Bounce Rate") of the latest complete
    // day above this, per campaign (or Canvas step) and email. Default 5 %: Amazon SES, one of
    // the email providers Braze sends through, puts a sender under review at a 5 % bounce rate
    // and may pause its sending at 10 % (SES developer guide, "Reputation metrics messages";
    // https://repost.aws/knowledge-center/ses-resolve-account-review-pause).
    emailBounceRatio: '0.05',
    // ... where that day sent at least this many emails. Our choice: with 1000 sends, a list
    // that really bounces 2 % reads above 5 % with probability 3e-9 (binomial tail); with 100
    // sends, 0.015, and five bad addresses page.
    emailBounceMinSent: '1000',
    // BrazeEmailSpamRateHigh: reported_spam / sent (Braze's "Spam Rate") above this. Default
    // 0.3 %: Gmail's email sender guidelines ask bulk senders never to reach a 0.3 % spam rate
    // (and to stay under 0.1 %; https://support.google.com/a/answer/81126), Yahoo's sender
    // best practices the same 0.3 % (https://senders.yahooinc.com/best-practices/). Braze sees
    // only the complaints feedback loops report (a fraction, Braze says), and divides by sends
    // where Gmail divides by messages delivered to the inbox: the rate here reads low, so
    // lower the threshold (0.001) once you know your normal.
    emailSpamRatio: '0.003',
    // ... where that day sent at least this many emails. Default 5000: Gmail's definition of a
    // bulk sender (close to 5000 messages a day to personal Gmail accounts, same page); at
    // 5000 sends a list at Gmail's recommended 0.1 % reads above 0.3 % with probability
    // 7e-5 (binomial tail), at 1000 sends with 0.019.
    emailSpamMinSent: '5000',
    // BrazeSmsDeliveryFailing: delivery_failed / sent (Braze's "Failed Delivery Rate": SMS
    // Braze could not hand to the carrier) above this. No carrier or Braze limit is published;
    // 5 % is our choice, the bounce rate SES reviews at: a healthy sender hands almost every
    // message on, and failures at this rate mean a sending number, subscription group or
    // provider problem.
    smsFailureRatio: '0.05',
    // ... where that day sent at least this many SMS (our choice, as emailBounceMinSent).
    smsFailureMinSent: '1000',
    // BrazeWebhookErrors: errors / sent above this. No limit is published; 5 % is our choice:
    // one webhook in twenty refused by your endpoint (or timing out) is an outage of it, not
    // noise.
    webhookErrorRatio: '0.05',
    // ... where that day sent at least this many webhooks. Our choice: at 100 sends an
    // endpoint that really fails 1 % reads above 5 % with probability 5e-4 (binomial tail).
    webhookErrorMinSent: '100',

    // BrazeCanvasEntriesDropped: Braze's total entries of a Canvas (variant="all") on the
    // latest complete day below (1 - ratio) of the same day last week, where last week had at
    // least this many entries. Our choice: half (entries follow the audiences and campaigns
    // that feed a Canvas and swing more from week to week than DAU, whose threshold is 30 %),
    // and 500 entries, as a Canvas that enrols a few hundred people a day is too small to
    // page on.
    canvasEntriesDropRatio: '0.5',
    canvasEntriesDropMinLastWeek: '500',

    // BrazeCampaignStoppedSending is opt-in, as BrazeEventStopped: it watches the campaigns
    // this label selector picks, e.g.
    //   campaignStopSelector: 'campaign=~"txn_order_push|onboarding_email"',
    // and fires when one of them sent on every one of the 7 days before the latest complete
    // day and sent nothing on that day. The default, campaign="", matches no series (campaign
    // series always have a campaign label), so the alert is off until you set it.
    campaignStopSelector: 'campaign=""',

    // Every alert's runbook_url annotation: this pattern with the alert's name in lower case
    // (the anchor of its section in docs/runbook.md). Point it at your copy of the runbook.
    runbookURLPattern: 'https://github.com/braze-exporter/braze-exporter/blob/main/docs/runbook.md#%s',
  },
}
