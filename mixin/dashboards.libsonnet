// The Grafana dashboard of braze-exporter, rendered to grafana/dashboards/braze-exporter.json
// by mixin/build.sh. Edit this file, never the JSON.
local g = import 'lib/grafana.libsonnet';

{
  grafanaDashboards+:: {
    local cfg = $._config,
    // Every query selects the job (and, with several workspaces, the workspace) the variables pick.
    // %(s)s selects the job (exporter-wide metrics); %(w)s the job and the workspace (per-series
    // and per-workspace metrics; series without a workspace label match "All", i.e. `.*`).
    local e(expr) = std.rstripChars(expr % { s: 'job=~"$job"', w: 'job=~"$job", workspace=~"$workspace"' }, '\n'),
    local row = g.row,
    local panel = g.panel,
    local range = g.range,
    local instant = g.instant,

    // Sessions: per hour, against last week, and the hour in progress.
    local sessionPanels = [
      row(1, 'Sessions per hour', 0),
      panel('timeseries',
            2,
            'Sessions per hour by app (all users)',
            'Sessions in the latest complete hour, per app (segment "all": every user). Each value is held while that hour is the latest complete one, so the line is a staircase drawn about one hour after the hour it counts. The app named "all" is the whole workspace: do not add it to the others. The segment variable does not apply here.',
            { h: 9, w: 12, x: 0, y: 1 },
            [
              range('A', e('braze_sessions{%(w)s, unit="hour", app_name=~"$app_name", segment_name="all"}'), '{{app_name}}'),
            ]) + {
        fieldConfig: {
          defaults: {
            custom: {
              drawStyle: 'line',
              lineInterpolation: 'stepAfter',
              lineWidth: 2,
              fillOpacity: 0,
              showPoints: 'never',
              spanNulls: 3600000,
              axisSoftMin: 0,
            },
            unit: 'short',
          },
          overrides: [],
        },
        options: {
          legend: {
            displayMode: 'table',
            placement: 'right',
            calcs: ['lastNotNull'],
            showLegend: true,
          },
          tooltip: {
            mode: 'multi',
            sort: 'desc',
          },
        },
      },
      panel('timeseries',
            3,
            'Sessions per hour by segment',
            'Sessions in the latest complete hour, per segment and app (the "all" segment is left out: see the panel on the left). Segments overlap: never add them up.',
            { h: 9, w: 12, x: 12, y: 1 },
            [
              range('A', e('braze_sessions{%(w)s, unit="hour", app_name=~"$app_name", segment_name=~"$segment_name", segment_name!="all"}'), '{{segment_name}} · {{app_name}}'),
            ]) + {
        fieldConfig: {
          defaults: {
            custom: {
              drawStyle: 'line',
              lineInterpolation: 'stepAfter',
              lineWidth: 2,
              fillOpacity: 0,
              showPoints: 'never',
              spanNulls: 3600000,
              axisSoftMin: 0,
            },
            unit: 'short',
          },
          overrides: [],
        },
        options: {
          legend: {
            displayMode: 'table',
            placement: 'right',
            calcs: ['lastNotNull'],
            showLegend: true,
          },
          tooltip: {
            mode: 'multi',
            sort: 'desc',
          },
        },
      },
      row(4, 'Same hour last week', 10),
      panel('timeseries',
            5,
            'Sessions per hour vs the same hour last week',
            'Solid: sessions in the latest complete hour. Dashed: the same hour one week earlier, as it was reported at the same point last week (recording rule braze:sessions:last_week). Short gaps around each change of hour are bridged.',
            { h: 9, w: 12, x: 0, y: 11 },
            [
              range('A', e('braze_sessions{%(w)s, unit="hour", app_name=~"$app_name", segment_name=~"$segment_name"}'), '{{app_name}} / {{segment_name}}'),
              range('B', e('braze:sessions:last_week{%(w)s, unit="hour", app_name=~"$app_name", segment_name=~"$segment_name"}'), '{{app_name}} / {{segment_name}} last week'),
            ]) + {
        fieldConfig: {
          defaults: {
            custom: {
              drawStyle: 'line',
              lineInterpolation: 'stepAfter',
              lineWidth: 2,
              fillOpacity: 0,
              showPoints: 'never',
              spanNulls: 3600000,
              axisSoftMin: 0,
            },
            unit: 'short',
          },
          overrides: [
            {
              matcher: {
                id: 'byRegexp',
                options: '.*last week.*',
              },
              properties: [
                {
                  id: 'custom.lineStyle',
                  value: {
                    fill: 'dash',
                    dash: [10, 10],
                  },
                },
                {
                  id: 'custom.lineWidth',
                  value: 1,
                },
              ],
            },
          ],
        },
        options: {
          legend: {
            displayMode: 'table',
            placement: 'right',
            calcs: ['lastNotNull'],
            showLegend: true,
          },
          tooltip: {
            mode: 'multi',
            sort: 'desc',
          },
        },
      },
      panel('timeseries',
            6,
            'Change against the same hour last week',
            "(this hour - same hour last week) / same hour last week, from the recording rule braze:sessions:change_vs_last_week_ratio. The red line is BrazeSessionsDropped's threshold (-50 %, alerting only where last week had at least 100 sessions).",
            { h: 9, w: 12, x: 12, y: 11 },
            [
              range('A', e('braze:sessions:change_vs_last_week_ratio{%(w)s, unit="hour", app_name=~"$app_name", segment_name=~"$segment_name"}'), '{{app_name}} / {{segment_name}}'),
            ]) + {
        fieldConfig: {
          defaults: {
            custom: {
              drawStyle: 'line',
              lineInterpolation: 'stepAfter',
              lineWidth: 2,
              fillOpacity: 0,
              showPoints: 'never',
              spanNulls: 3600000,
              thresholdsStyle: {
                mode: 'line+area',
              },
            },
            unit: 'percentunit',
            thresholds: {
              mode: 'absolute',
              steps: [
                {
                  color: 'red',
                  value: null,
                },
                {
                  color: 'transparent',
                  value: -0.5,
                },
              ],
            },
          },
          overrides: [],
        },
        options: {
          legend: {
            displayMode: 'table',
            placement: 'right',
            calcs: ['lastNotNull'],
            showLegend: true,
          },
          tooltip: {
            mode: 'multi',
            sort: 'desc',
          },
        },
      },
      panel('table',
            7,
            'Latest complete hour',
            "One row per series: the latest complete hour, the same hour last week, the change, when the hour started, and how long ago it ended (data lag). (`sum without ()` only drops the metric name so the queries' rows join on their labels: nothing is added up.)",
            { h: 8, w: 24, x: 0, y: 20 },
            [
              instant('A', e('sum without () (braze_sessions{%(w)s, unit="hour", app_name=~"$app_name", segment_name=~"$segment_name"})'), '__auto') + {
                format: 'table',
              },
              instant('B', e('sum without () (braze:sessions:last_week{%(w)s, unit="hour", app_name=~"$app_name", segment_name=~"$segment_name"})'), '__auto') + {
                format: 'table',
              },
              instant('C', e('sum without () (braze:sessions:change_vs_last_week_ratio{%(w)s, unit="hour", app_name=~"$app_name", segment_name=~"$segment_name"})'), '__auto') + {
                format: 'table',
              },
              instant('D', e('braze_sessions_bucket_timestamp_seconds{%(w)s, unit="hour", app_name=~"$app_name", segment_name=~"$segment_name"} * 1000'), '__auto') + {
                format: 'table',
              },
              instant('E', e('sum without () (braze:sessions:lag_seconds{%(w)s, unit="hour", app_name=~"$app_name", segment_name=~"$segment_name"})'), '__auto') + {
                format: 'table',
              },
            ]) + {
        fieldConfig: {
          defaults: {
            custom: {
              align: 'auto',
              cellOptions: {
                type: 'auto',
              },
            },
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'Change',
              },
              properties: [
                {
                  id: 'unit',
                  value: 'percentunit',
                },
                {
                  id: 'decimals',
                  value: 1,
                },
                {
                  id: 'custom.cellOptions',
                  value: {
                    type: 'color-text',
                  },
                },
                {
                  id: 'thresholds',
                  value: {
                    mode: 'absolute',
                    steps: [
                      {
                        color: 'red',
                        value: null,
                      },
                      {
                        color: 'orange',
                        value: -0.5,
                      },
                      {
                        color: 'text',
                        value: -0.2,
                      },
                    ],
                  },
                },
              ],
            },
            {
              matcher: {
                id: 'byName',
                options: 'Hour starting',
              },
              properties: [
                {
                  id: 'unit',
                  value: 'dateTimeAsLocal',
                },
              ],
            },
            {
              matcher: {
                id: 'byName',
                options: 'Data lag',
              },
              properties: [
                {
                  id: 'unit',
                  value: 's',
                },
                {
                  id: 'custom.cellOptions',
                  value: {
                    type: 'color-text',
                  },
                },
                {
                  id: 'thresholds',
                  value: {
                    mode: 'absolute',
                    steps: [
                      {
                        color: 'green',
                        value: null,
                      },
                      {
                        color: 'orange',
                        value: 3600,
                      },
                      {
                        color: 'red',
                        value: 7200,
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
        options: {
          showHeader: true,
          cellHeight: 'sm',
          sortBy: [
            {
              displayName: 'Sessions',
              desc: true,
            },
          ],
        },
        transformations: [
          {
            id: 'merge',
            options: {},
          },
          {
            id: 'organize',
            options: {
              excludeByName: {
                Time: true,
                __name__: true,
                job: true,
                unit: true,
              },
              indexByName: {
                app_name: 0,
                segment_name: 1,
                'Value #D': 2,
                'Value #A': 3,
                'Value #B': 4,
                'Value #C': 5,
                'Value #E': 6,
                instance: 7,
              },
              renameByName: {
                app_name: 'App',
                segment_name: 'Segment',
                instance: 'Exporter',
                'Value #A': 'Sessions',
                'Value #B': 'Same hour last week',
                'Value #C': 'Change',
                'Value #D': 'Hour starting',
                'Value #E': 'Data lag',
              },
            },
          },
        ],
      },
      row(8, 'Hour in progress', 28),
      panel('bargauge',
            9,
            'Sessions so far in the hour in progress',
            'Sessions counted so far in the hour that contains now, as last fetched from Braze. Not final: mobile SDKs report sessions late. Absent when Braze did not return the hour in progress.',
            { h: 9, w: 12, x: 0, y: 29 },
            [
              instant('A', e('braze_sessions_in_progress{%(w)s, unit="hour", app_name=~"$app_name", segment_name=~"$segment_name"}'), '{{app_name}} / {{segment_name}}'),
            ]) + {
        fieldConfig: {
          defaults: {
            custom: {},
            unit: 'short',
            thresholds: {
              mode: 'absolute',
              steps: [
                {
                  color: 'blue',
                  value: null,
                },
              ],
            },
          },
          overrides: [],
        },
        options: {
          orientation: 'horizontal',
          displayMode: 'gradient',
          showUnfilled: true,
          reduceOptions: {
            calcs: ['lastNotNull'],
            fields: '',
            values: false,
          },
        },
      },
      panel('timeseries',
            10,
            'Hour in progress vs the same time last week',
            "Solid: sessions so far in the hour in progress. Dashed: sessions so far at the same minute of the same hour one week earlier (only where last week's hour in progress was that same hour).",
            { h: 9, w: 12, x: 12, y: 29 },
            [
              range('A', e('braze_sessions_in_progress{%(w)s, unit="hour", app_name=~"$app_name", segment_name=~"$segment_name"}'), '{{app_name}} / {{segment_name}}'),
              range('B', e(|||
                braze_sessions_in_progress{%(w)s, unit="hour", app_name=~"$app_name", segment_name=~"$segment_name"} offset 1w
                and
                (
                  braze_sessions_in_progress_bucket_timestamp_seconds{%(w)s, unit="hour", app_name=~"$app_name", segment_name=~"$segment_name"} offset 1w
                  == braze_sessions_in_progress_bucket_timestamp_seconds{%(w)s, unit="hour", app_name=~"$app_name", segment_name=~"$segment_name"} - 604800
                )
              |||), '{{app_name}} / {{segment_name}} last week'),
            ]) + {
        fieldConfig: {
          defaults: {
            custom: {
              drawStyle: 'line',
              lineInterpolation: 'linear',
              lineWidth: 2,
              fillOpacity: 0,
              showPoints: 'never',
              spanNulls: false,
              axisSoftMin: 0,
            },
            unit: 'short',
          },
          overrides: [
            {
              matcher: {
                id: 'byRegexp',
                options: '.*last week.*',
              },
              properties: [
                {
                  id: 'custom.lineStyle',
                  value: {
                    fill: 'dash',
                    dash: [10, 10],
                  },
                },
                {
                  id: 'custom.lineWidth',
                  value: 1,
                },
              ],
            },
          ],
        },
        options: {
          legend: {
            displayMode: 'table',
            placement: 'right',
            calcs: ['lastNotNull'],
            showLegend: true,
          },
          tooltip: {
            mode: 'multi',
            sort: 'desc',
          },
        },
      },
    ],

    // Freshness, series health, the Braze API and the exporter itself.
    local healthPanels = [
      row(11, 'Freshness and series health', 38),
      panel('stat',
            12,
            'Data lag (hourly series)',
            "How long ago the latest complete hour ended (now - its start - 1 h; recording rule braze:sessions:lag_seconds). Normal: under an hour plus Braze's delay. BrazeSessionsDataStale fires past 2 h (latest complete hour started over 3 h ago).",
            { h: 8, w: 8, x: 0, y: 39 },
            [
              instant('A', e('braze:sessions:lag_seconds{%(w)s, unit="hour", app_name=~"$app_name", segment_name=~"$segment_name"}'), '{{app_name}} / {{segment_name}}'),
            ]) + {
        fieldConfig: {
          defaults: {
            custom: {},
            unit: 's',
            thresholds: {
              mode: 'absolute',
              steps: [
                {
                  color: 'green',
                  value: null,
                },
                {
                  color: 'orange',
                  value: 3600,
                },
                {
                  color: 'red',
                  value: 7200,
                },
              ],
            },
          },
          overrides: [],
        },
        options: {
          reduceOptions: {
            calcs: ['lastNotNull'],
            fields: '',
            values: false,
          },
          colorMode: 'background',
          graphMode: 'none',
          textMode: 'value_and_name',
          justifyMode: 'auto',
          orientation: 'auto',
        },
      },
      panel('timeseries',
            13,
            'Data lag, all series',
            'Age of the end of the latest complete bucket, hour and day series alike (for a day series: how long ago yesterday ended). From braze_sessions_bucket_timestamp_seconds.',
            { h: 8, w: 16, x: 8, y: 39 },
            [
              range('A', e('braze:sessions:lag_seconds{%(w)s, app_name=~"$app_name", segment_name=~"$segment_name"}'), '{{app_name}} / {{segment_name}} / {{unit}}'),
            ]) + {
        fieldConfig: {
          defaults: {
            custom: {
              drawStyle: 'line',
              lineInterpolation: 'linear',
              lineWidth: 2,
              fillOpacity: 0,
              showPoints: 'never',
              spanNulls: 3600000,
              axisSoftMin: 0,
            },
            unit: 's',
          },
          overrides: [],
        },
        options: {
          legend: {
            displayMode: 'table',
            placement: 'right',
            calcs: ['lastNotNull'],
            showLegend: true,
          },
          tooltip: {
            mode: 'multi',
            sort: 'desc',
          },
        },
      },
      panel('state-timeline',
            14,
            'Series up / down',
            'braze_up per series: green when the latest fetch from Braze succeeded, red when it failed. BrazeSeriesFailing fires after 30 minutes red.',
            { h: 8, w: 16, x: 0, y: 47 },
            [
              range('A', e('braze_up{%(w)s, app_name=~"$app_name", segment_name=~"$segment_name"}'), '{{app_name}} / {{segment_name}} / {{unit}}'),
            ]) + {
        fieldConfig: {
          defaults: {
            custom: {
              fillOpacity: 80,
              lineWidth: 0,
            },
            thresholds: {
              mode: 'absolute',
              steps: [
                {
                  color: 'red',
                  value: null,
                },
                {
                  color: 'green',
                  value: 1,
                },
              ],
            },
            mappings: [
              {
                type: 'value',
                options: {
                  '0': {
                    text: 'down',
                    color: 'red',
                    index: 0,
                  },
                  '1': {
                    text: 'up',
                    color: 'green',
                    index: 1,
                  },
                },
              },
            ],
            color: {
              mode: 'thresholds',
            },
          },
          overrides: [],
        },
        options: {
          showValue: 'never',
          mergeValues: true,
          rowHeight: 0.9,
          alignValue: 'left',
          legend: {
            showLegend: false,
          },
          tooltip: {
            mode: 'single',
          },
        },
      },
      panel('table',
            15,
            'Last successful fetch',
            'How long ago each series was last fetched successfully from Braze.',
            { h: 8, w: 8, x: 16, y: 47 },
            [
              instant('A', e('time() - braze_last_success_timestamp_seconds{%(w)s, app_name=~"$app_name", segment_name=~"$segment_name"}'), '__auto') + {
                format: 'table',
              },
            ]) + {
        fieldConfig: {
          defaults: {
            custom: {
              align: 'auto',
              cellOptions: {
                type: 'auto',
              },
            },
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'Ago',
              },
              properties: [
                {
                  id: 'unit',
                  value: 's',
                },
              ],
            },
          ],
        },
        options: {
          showHeader: true,
          cellHeight: 'sm',
        },
        transformations: [
          {
            id: 'organize',
            options: {
              excludeByName: {
                Time: true,
                job: true,
                instance: true,
              },
              renameByName: {
                app_name: 'App',
                segment_name: 'Segment',
                unit: 'Unit',
                Value: 'Ago',
              },
            },
          },
        ],
      },
      row(16, 'Braze API', 55),
      panel('timeseries',
            17,
            'Requests to Braze',
            'Requests sent to Braze and failed requests, per minute.',
            { h: 8, w: 8, x: 0, y: 56 },
            [
              range('A', e('sum by (instance) (rate(braze_api_requests_total{%(s)s}[$__rate_interval])) * 60'), 'requests {{instance}}'),
              range('B', e('sum by (instance) (rate(braze_api_request_failures_total{%(s)s}[$__rate_interval])) * 60'), 'failures {{instance}}'),
            ]) + {
        fieldConfig: {
          defaults: {
            custom: {
              drawStyle: 'line',
              lineInterpolation: 'linear',
              lineWidth: 2,
              fillOpacity: 0,
              showPoints: 'never',
              spanNulls: 3600000,
              axisSoftMin: 0,
            },
            unit: 'reqpm',
          },
          overrides: [],
        },
        options: {
          legend: {
            displayMode: 'table',
            placement: 'right',
            calcs: ['lastNotNull'],
            showLegend: true,
          },
          tooltip: {
            mode: 'multi',
            sort: 'desc',
          },
        },
      },
      panel('timeseries',
            18,
            'Failed requests by reason',
            'Failed requests to Braze per minute by reason: unauthorized/forbidden need a new key or permission, rate_limited means the workspace budget is spent, server_error/timeout/connection are Braze or network trouble, bad_request/not_found a wrong app, segment or instance URL.',
            { h: 8, w: 8, x: 8, y: 56 },
            [
              range('A', e('sum by (reason) (rate(braze_api_request_failures_total{%(s)s}[$__rate_interval])) * 60'), '{{reason}}'),
            ]) + {
        fieldConfig: {
          defaults: {
            custom: {
              drawStyle: 'bars',
              lineInterpolation: 'stepAfter',
              lineWidth: 2,
              fillOpacity: 80,
              showPoints: 'never',
              spanNulls: 3600000,
              axisSoftMin: 0,
              stacking: {
                mode: 'normal',
                group: 'A',
              },
            },
            unit: 'reqpm',
          },
          overrides: [],
        },
        options: {
          legend: {
            displayMode: 'table',
            placement: 'right',
            calcs: ['lastNotNull'],
            showLegend: true,
          },
          tooltip: {
            mode: 'multi',
            sort: 'desc',
          },
        },
      },
      panel('timeseries',
            19,
            'Rate-limit budget remaining',
            "Share of the workspace's Braze REST API budget left in the current window (X-RateLimit-Remaining / X-RateLimit-Limit, recording rule braze:api_rate_limit:remaining_ratio). Shared with every other integration of the workspace. BrazeRateLimitNearlyExhausted fires under 10 %.",
            { h: 8, w: 8, x: 16, y: 56 },
            [
              range('A', e('braze:api_rate_limit:remaining_ratio{%(w)s}'), '{{instance}}'),
            ]) + {
        fieldConfig: {
          defaults: {
            custom: {
              drawStyle: 'line',
              lineInterpolation: 'linear',
              lineWidth: 2,
              fillOpacity: 0,
              showPoints: 'never',
              spanNulls: 3600000,
              axisSoftMin: 0,
              thresholdsStyle: {
                mode: 'line+area',
              },
            },
            unit: 'percentunit',
            thresholds: {
              mode: 'absolute',
              steps: [
                {
                  color: 'red',
                  value: null,
                },
                {
                  color: 'transparent',
                  value: 0.1,
                },
              ],
            },
            min: 0,
            max: 1,
          },
          overrides: [],
        },
        options: {
          legend: {
            displayMode: 'table',
            placement: 'right',
            calcs: ['lastNotNull'],
            showLegend: true,
          },
          tooltip: {
            mode: 'multi',
            sort: 'desc',
          },
        },
      },
      panel('stat',
            20,
            'Rate limit',
            "Latest X-RateLimit-* values Braze sent: remaining requests, the window's limit, and when the window resets.",
            { h: 5, w: 12, x: 0, y: 64 },
            [
              instant('A', e('braze_api_rate_limit_remaining{%(w)s}'), 'remaining'),
              instant('B', e('braze_api_rate_limit_limit{%(w)s}'), 'limit'),
              instant('C', e('braze_api_rate_limit_reset_timestamp_seconds{%(w)s} - time()'), 'resets in'),
            ]) + {
        fieldConfig: {
          defaults: {
            custom: {},
            unit: 'short',
            thresholds: {
              mode: 'absolute',
              steps: [
                {
                  color: 'text',
                  value: null,
                },
              ],
            },
          },
          overrides: [
            {
              matcher: {
                id: 'byFrameRefID',
                options: 'C',
              },
              properties: [
                {
                  id: 'unit',
                  value: 's',
                },
              ],
            },
          ],
        },
        options: {
          reduceOptions: {
            calcs: ['lastNotNull'],
            fields: '',
            values: false,
          },
          colorMode: 'none',
          graphMode: 'none',
          textMode: 'value_and_name',
          justifyMode: 'auto',
        },
      },
      panel('stat',
            21,
            'Requests in the last hour',
            'Requests sent to Braze and failed requests over the last hour.',
            { h: 5, w: 12, x: 12, y: 64 },
            [
              instant('A', e('sum(increase(braze_api_requests_total{%(s)s}[1h]))'), 'requests'),
              instant('B', e('sum(increase(braze_api_request_failures_total{%(s)s}[1h]))'), 'failures'),
            ]) + {
        fieldConfig: {
          defaults: {
            custom: {},
            unit: 'short',
            thresholds: {
              mode: 'absolute',
              steps: [
                {
                  color: 'text',
                  value: null,
                },
              ],
            },
          },
          overrides: [],
        },
        options: {
          reduceOptions: {
            calcs: ['lastNotNull'],
            fields: '',
            values: false,
          },
          colorMode: 'none',
          graphMode: 'none',
          textMode: 'value_and_name',
          justifyMode: 'auto',
        },
      },
      row(22, 'Exporter', 69),
      panel('timeseries',
            23,
            'Refresh duration',
            'How long the last complete refresh of all series took, against the configured refresh interval. A refresh longer than the interval makes the next one be skipped.',
            { h: 8, w: 8, x: 0, y: 70 },
            [
              range('A', e('braze_refresh_duration_seconds{%(s)s}'), 'duration {{instance}}'),
              range('B', e('braze_refresh_interval_seconds{%(s)s}'), 'interval {{instance}}'),
            ]) + {
        fieldConfig: {
          defaults: {
            custom: {
              drawStyle: 'line',
              lineInterpolation: 'linear',
              lineWidth: 2,
              fillOpacity: 0,
              showPoints: 'never',
              spanNulls: 3600000,
              axisSoftMin: 0,
            },
            unit: 's',
          },
          overrides: [
            {
              matcher: {
                id: 'byFrameRefID',
                options: 'B',
              },
              properties: [
                {
                  id: 'custom.lineStyle',
                  value: {
                    fill: 'dash',
                    dash: [10, 10],
                  },
                },
                {
                  id: 'color',
                  value: {
                    mode: 'fixed',
                    fixedColor: 'red',
                  },
                },
              ],
            },
          ],
        },
        options: {
          legend: {
            displayMode: 'table',
            placement: 'right',
            calcs: ['lastNotNull'],
            showLegend: true,
          },
          tooltip: {
            mode: 'multi',
            sort: 'desc',
          },
        },
      },
      panel('timeseries',
            24,
            'Refreshes',
            'Completed refreshes and refreshes skipped because the previous one was still running, per hour.',
            { h: 8, w: 8, x: 8, y: 70 },
            [
              range('A', e('sum by (instance) (rate(braze_refreshes_total{%(s)s}[$__rate_interval])) * 3600'), 'completed {{instance}}'),
              range('B', e('sum by (instance) (rate(braze_refreshes_skipped_total{%(s)s}[$__rate_interval])) * 3600'), 'skipped {{instance}}'),
            ]) + {
        fieldConfig: {
          defaults: {
            custom: {
              drawStyle: 'line',
              lineInterpolation: 'linear',
              lineWidth: 2,
              fillOpacity: 0,
              showPoints: 'never',
              spanNulls: 3600000,
              axisSoftMin: 0,
            },
            unit: 'short',
          },
          overrides: [],
        },
        options: {
          legend: {
            displayMode: 'table',
            placement: 'right',
            calcs: ['lastNotNull'],
            showLegend: true,
          },
          tooltip: {
            mode: 'multi',
            sort: 'desc',
          },
        },
      },
      panel('timeseries',
            25,
            'Exporter memory and CPU',
            'Resident memory and CPU use of the exporter process.',
            { h: 8, w: 8, x: 16, y: 70 },
            [
              range('A', e('process_resident_memory_bytes{%(s)s}'), 'memory {{instance}}'),
              range('B', e('rate(process_cpu_seconds_total{%(s)s}[$__rate_interval])'), 'cpu {{instance}}'),
            ]) + {
        fieldConfig: {
          defaults: {
            custom: {
              drawStyle: 'line',
              lineInterpolation: 'linear',
              lineWidth: 2,
              fillOpacity: 0,
              showPoints: 'never',
              spanNulls: 3600000,
              axisSoftMin: 0,
            },
            unit: 'bytes',
          },
          overrides: [
            {
              matcher: {
                id: 'byFrameRefID',
                options: 'B',
              },
              properties: [
                {
                  id: 'unit',
                  value: 'percentunit',
                },
                {
                  id: 'custom.axisPlacement',
                  value: 'right',
                },
              ],
            },
          ],
        },
        options: {
          legend: {
            displayMode: 'table',
            placement: 'right',
            calcs: ['lastNotNull'],
            showLegend: true,
          },
          tooltip: {
            mode: 'multi',
            sort: 'desc',
          },
        },
      },
      panel('stat',
            26,
            'Exporter scraped',
            'Whether Prometheus can scrape the exporter (up). BrazeExporterDown fires after 5 minutes down.',
            { h: 5, w: 4, x: 0, y: 78 },
            [
              instant('A', e('up{%(s)s}'), '{{instance}}'),
            ]) + {
        fieldConfig: {
          defaults: {
            custom: {},
            thresholds: {
              mode: 'absolute',
              steps: [
                {
                  color: 'red',
                  value: null,
                },
                {
                  color: 'green',
                  value: 1,
                },
              ],
            },
            mappings: [
              {
                type: 'value',
                options: {
                  '0': {
                    text: 'down',
                    index: 0,
                  },
                  '1': {
                    text: 'up',
                    index: 1,
                  },
                },
              },
            ],
          },
          overrides: [],
        },
        options: {
          reduceOptions: {
            calcs: ['lastNotNull'],
            fields: '',
            values: false,
          },
          colorMode: 'background',
          graphMode: 'none',
          textMode: 'value_and_name',
          justifyMode: 'auto',
        },
      },
      panel('stat',
            27,
            'Last refresh',
            'How long ago the exporter last completed a refresh of all series.',
            { h: 5, w: 4, x: 4, y: 78 },
            [
              instant('A', e('time() - braze_refresh_last_completed_timestamp_seconds{%(s)s}'), '{{instance}}'),
            ]) + {
        fieldConfig: {
          defaults: {
            custom: {},
            unit: 's',
            thresholds: {
              mode: 'absolute',
              steps: [
                {
                  color: 'text',
                  value: null,
                },
              ],
            },
          },
          overrides: [],
        },
        options: {
          reduceOptions: {
            calcs: ['lastNotNull'],
            fields: '',
            values: false,
          },
          colorMode: 'none',
          graphMode: 'none',
          textMode: 'value_and_name',
          justifyMode: 'auto',
        },
      },
      panel('stat',
            28,
            'Configured series',
            'Number of configured series (app × segment × unit), each a set of braze_* series.',
            { h: 5, w: 4, x: 8, y: 78 },
            [
              instant('A', e('braze_series{%(s)s}'), '{{instance}}'),
            ]) + {
        fieldConfig: {
          defaults: {
            custom: {},
            thresholds: {
              mode: 'absolute',
              steps: [
                {
                  color: 'text',
                  value: null,
                },
              ],
            },
          },
          overrides: [],
        },
        options: {
          reduceOptions: {
            calcs: ['lastNotNull'],
            fields: '',
            values: false,
          },
          colorMode: 'none',
          graphMode: 'none',
          textMode: 'value_and_name',
          justifyMode: 'auto',
        },
      },
      panel('stat',
            29,
            'Config reload',
            'Whether the last configuration reload succeeded; on failure the exporter keeps the previous configuration and BrazeConfigReloadFailed fires after 5 minutes.',
            { h: 5, w: 6, x: 12, y: 78 },
            [
              instant('A', e('braze_config_last_reload_successful{%(s)s}'), '{{instance}}'),
              instant('B', e('time() - braze_config_last_reload_success_timestamp_seconds{%(s)s}'), 'last good reload {{instance}}'),
            ]) + {
        fieldConfig: {
          defaults: {
            custom: {},
            thresholds: {
              mode: 'absolute',
              steps: [
                {
                  color: 'red',
                  value: null,
                },
                {
                  color: 'green',
                  value: 1,
                },
              ],
            },
            mappings: [
              {
                type: 'value',
                options: {
                  '0': {
                    text: 'failed',
                    index: 0,
                  },
                  '1': {
                    text: 'ok',
                    index: 1,
                  },
                },
              },
            ],
          },
          overrides: [
            {
              matcher: {
                id: 'byFrameRefID',
                options: 'B',
              },
              properties: [
                {
                  id: 'unit',
                  value: 's',
                },
                {
                  id: 'mappings',
                  value: [],
                },
                {
                  id: 'color',
                  value: {
                    mode: 'fixed',
                    fixedColor: 'text',
                  },
                },
              ],
            },
          ],
        },
        options: {
          reduceOptions: {
            calcs: ['lastNotNull'],
            fields: '',
            values: false,
          },
          colorMode: 'background',
          graphMode: 'none',
          textMode: 'value_and_name',
          justifyMode: 'auto',
        },
      },
      panel('table',
            30,
            'Build',
            'Exporter version and revision (braze_exporter_build_info).',
            { h: 5, w: 6, x: 18, y: 78 },
            [
              instant('A', e('braze_exporter_build_info{%(s)s}'), '__auto') + {
                format: 'table',
              },
            ]) + {
        fieldConfig: {
          defaults: {
            custom: {
              align: 'auto',
              cellOptions: {
                type: 'auto',
              },
            },
          },
          overrides: [],
        },
        options: {
          showHeader: true,
          cellHeight: 'sm',
        },
        transformations: [
          {
            id: 'organize',
            options: {
              excludeByName: {
                Time: true,
                Value: true,
                __name__: true,
                job: true,
              },
              renameByName: {
                instance: 'Exporter',
                version: 'Version',
                revision: 'Revision',
              },
            },
          },
        ],
      },
    ],

    // KPIs, events, purchases and revenue, segment sizes: every kind but sessions. Day series
    // (KPIs, segment sizes, and the others when configured with unit: day) change once a day.
    local ts = g.timeseries,
    local kindPanels = [
      row(31, 'KPIs (daily)', 0),
      ts(32,
         'Daily active users',
         'DAU of the latest complete day of the company time zone, per app (braze_dau; "all" is the whole workspace: do not add it to the others). Held for the day, so the line steps once a day.',
         { h: 8, w: 8, x: 0, y: 1 },
         [
           range('A', e('braze_dau{%(w)s, app_name=~"$app_name"}'), '{{app_name}}'),
         ]),
      ts(33,
         'Monthly active users',
         'MAU (users active in the 30 days up to the latest complete day), per app (braze_mau).',
         { h: 8, w: 8, x: 8, y: 1 },
         [
           range('A', e('braze_mau{%(w)s, app_name=~"$app_name"}'), '{{app_name}}'),
         ]),
      ts(34,
         'Stickiness (DAU / MAU)',
         'Share of the monthly active users active on the latest complete day, per app (recording rule braze:dau_per_mau:ratio).',
         { h: 8, w: 8, x: 16, y: 1 },
         [
           range('A', e('braze:dau_per_mau:ratio{%(w)s, app_name=~"$app_name"}'), '{{app_name}}'),
         ],
         unit='percentunit'),
      ts(35,
         'DAU vs the same day last week',
         'Solid: DAU of the latest complete day. Dashed: the same day one week earlier (recording rule braze:dau:last_week). BrazeDauDropped fires when DAU stays more than 30 % below it.',
         { h: 8, w: 12, x: 0, y: 9 },
         [
           range('A', e('braze_dau{%(w)s, app_name=~"$app_name"}'), '{{app_name}}'),
           range('B', e('braze:dau:last_week{%(w)s, app_name=~"$app_name"}'), '{{app_name}} last week'),
         ]) + {
        fieldConfig+: {
          overrides: [{
            matcher: { id: 'byFrameRefID', options: 'B' },
            properties: [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }],
          }],
        },
      },
      ts(36,
         'New users and uninstalls',
         'New users and uninstalls of the latest complete day, per app (braze_new_users, braze_uninstalls).',
         { h: 8, w: 12, x: 12, y: 9 },
         [
           range('A', e('braze_new_users{%(w)s, app_name=~"$app_name"}'), 'new users {{app_name}}'),
           range('B', e('braze_uninstalls{%(w)s, app_name=~"$app_name"}'), 'uninstalls {{app_name}}'),
         ]),

      row(37, 'Events', 17),
      ts(38,
         'Custom events per bucket',
         'Occurrences of each custom event in the latest complete bucket (hour or day, as export.events is configured), per event, app and segment (braze_events). Pick events with the Event variable. BrazeEventStopped (opt-in) fires when a watched event counts 0.',
         { h: 8, w: 16, x: 0, y: 18 },
         [
           range('A', e('braze_events{%(w)s, event=~"$event", app_name=~"$app_name", segment_name=~"$segment_name"}'), '{{event}} · {{app_name}} / {{segment_name}} / {{unit}}'),
         ]),
      g.bargauge(39,
                 'Events so far in the bucket in progress',
                 'Occurrences counted so far in the hour (or day) that contains now, as last fetched from Braze (braze_events_in_progress). Not final.',
                 { h: 8, w: 8, x: 16, y: 18 },
                 [
                   instant('A', e('braze_events_in_progress{%(w)s, event=~"$event", app_name=~"$app_name", segment_name=~"$segment_name"}'), '{{event}} · {{app_name}} / {{segment_name}}'),
                 ]),

      row(40, 'Purchases and revenue', 26),
      ts(41,
         'Purchases',
         'Purchases (quantity) in the latest complete bucket, per product and app (braze_purchases; product "all" is every product: do not add it to the others). Pick products with the Product variable.',
         { h: 8, w: 8, x: 0, y: 27 },
         [
           range('A', e('braze_purchases{%(w)s, product=~"$product", app_name=~"$app_name"}'), '{{product}} · {{app_name}} / {{unit}}'),
         ]),
      ts(42,
         'Revenue',
         "Revenue in the latest complete bucket, in the workspace's currency, per product and app (braze_purchase_revenue).",
         { h: 8, w: 8, x: 8, y: 27 },
         [
           range('A', e('braze_purchase_revenue{%(w)s, product=~"$product", app_name=~"$app_name"}'), '{{product}} · {{app_name}} / {{unit}}'),
         ]),
      ts(43,
         'Revenue change against the same bucket last week',
         '(this bucket - same bucket last week) / same bucket last week, from the recording rule braze:purchase_revenue:change_vs_last_week_ratio. BrazeRevenueDropped fires on day series past -50 %.',
         { h: 8, w: 8, x: 16, y: 27 },
         [
           range('A', e('braze:purchase_revenue:change_vs_last_week_ratio{%(w)s, product=~"$product", app_name=~"$app_name"}'), '{{product}} · {{app_name}} / {{unit}}'),
         ],
         unit='percentunit') + { fieldConfig+: { defaults+: { custom+: { axisSoftMin: -1 } } } },

      row(44, 'Segment sizes', 35),
      ts(45,
         'Segment size',
         'Users in each segment on the latest complete day (braze_segment_size; segments overlap: never add them up).',
         { h: 8, w: 16, x: 0, y: 36 },
         [
           range('A', e('braze_segment_size{%(w)s, segment_name=~"$segment_name"}'), '{{segment_name}}'),
         ]),
      g.stat(46,
             'Discovery',
             'Items of each Braze list that discovery keeps (braze_discovered), and whether configuration and discovery ask for more than max_series series (braze_series_limited = 1: the excess is dropped).',
             { h: 8, w: 8, x: 16, y: 36 },
             [
               instant('A', e('braze_discovered{%(s)s}'), '{{list}} discovered'),
               instant('B', e('braze_series_limited{%(s)s}'), 'series limited'),
             ]),
    ],
    local kindHeight = 44,
    local messaging = (import 'messaging-panels.libsonnet')(e, cfg),

    'braze-exporter.json': {
      title: 'Braze analytics',
      description: 'Braze app sessions per app and segment, by hour, from braze-exporter; KPIs (DAU, MAU, stickiness, new users, uninstalls), custom events, purchases and revenue, segment sizes; messaging (campaigns, Canvases and API sends: sends, delivery, bounce, spam, open and click rates, SMS and webhook failures, conversions and revenue, Canvas entries and the step funnel); with freshness, Braze API requests, rate limit and exporter health. Needs the recording rules in grafana/rules/braze-exporter.rules.yml. Generated from mixin/ (jsonnet).',
      tags: ['braze', 'prometheus', 'braze-exporter'],
      editable: true,
      graphTooltip: 1,
      refresh: '1m',
      schemaVersion: 39,
      version: 1,
      time: {
        from: 'now-24h',
        to: 'now',
      },
      timepicker: {},
      timezone: '',
      fiscalYearStartMonth: 0,
      liveNow: false,
      weekStart: '',
      links: [],
      annotations: {
        list: [
          {
            builtIn: 1,
            datasource: {
              type: 'grafana',
              uid: '-- Grafana --',
            },
            enable: true,
            hide: true,
            iconColor: 'rgba(0, 211, 255, 1)',
            name: 'Annotations & Alerts',
            type: 'dashboard',
          },
        ],
      },
      uid: cfg.dashboardUid,
      templating: {
        list: [
          g.datasourceVariable,
          g.queryVariable('job', 'Job', 'label_values(braze_exporter_build_info, job)'),
          g.queryVariable('workspace', 'Workspace', 'label_values(braze_up{job=~"$job"}, workspace)'),
          g.queryVariable('app_name', 'App', 'label_values(braze_up{job=~"$job", workspace=~"$workspace"}, app_name)'),
          g.queryVariable('segment_name', 'Segment', 'label_values(braze_up{job=~"$job", workspace=~"$workspace", app_name=~"$app_name"}, segment_name)'),
          g.queryVariable('event', 'Event', 'label_values(braze_events{job=~"$job", workspace=~"$workspace", app_name=~"$app_name"}, event)'),
          g.queryVariable('product', 'Product', 'label_values(braze_purchases{job=~"$job", workspace=~"$workspace", app_name=~"$app_name"}, product)'),
          g.queryVariable('campaign', 'Campaign', 'label_values(braze_campaign_bucket_timestamp_seconds{job=~"$job", workspace=~"$workspace"}, campaign)'),
          g.queryVariable('canvas', 'Canvas', 'label_values(braze_canvas_bucket_timestamp_seconds{job=~"$job", workspace=~"$workspace"}, canvas)'),
          g.queryVariable('channel', 'Channel', 'label_values(braze:message_sent:sum{job=~"$job", workspace=~"$workspace"}, channel)'),
        ],
      },
      panels: sessionPanels + g.shift(kindPanels, 38) + g.shift(messaging.panels, 38 + kindHeight)
              + g.shift(healthPanels, kindHeight + messaging.height),
    },
  },
}
