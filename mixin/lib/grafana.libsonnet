// Small constructors for the Grafana JSON of the dashboard (no grafonnet: the mixin needs
// nothing but Debian's jsonnet).
{
  local ds = { type: 'prometheus', uid: '${datasource}' },
  datasource: ds,

  row(id, title, y):: {
    type: 'row',
    title: title,
    id: id,
    collapsed: false,
    gridPos: { h: 1, w: 24, x: 0, y: y },
    panels: [],
  },

  // A panel of `type` on ${datasource}; fieldConfig, options and the rest are added with `+`.
  panel(type, id, title, description, gridPos, targets):: {
    type: type,
    title: title,
    description: description,
    id: id,
    datasource: ds,
    gridPos: gridPos,
    targets: targets,
  },

  // A query drawn over the time range, and one evaluated at the end of the range only.
  range(refId, expr, legend):: {
    datasource: ds,
    expr: expr,
    legendFormat: legend,
    refId: refId,
    range: true,
    instant: false,
    editorMode: 'code',
  },
  instant(refId, expr, legend):: self.range(refId, expr, legend) + { range: false, instant: true },

  datasourceVariable:: {
    type: 'datasource',
    name: 'datasource',
    label: 'Data source',
    query: 'prometheus',
    current: {},
    hide: 0,
    includeAll: false,
    multi: false,
    options: [],
    refresh: 1,
    regex: '',
  },

  // A multi-select variable from label_values(), with "All" meaning `.*` (so series without
  // the label match too).
  queryVariable(name, label, query, multi=true):: {
    type: 'query',
    name: name,
    label: label,
    datasource: ds,
    definition: query,
    query: {
      query: query,
      refId: 'PrometheusVariableQueryEditor-VariableQuery',
      qryType: 1,
    },
    refresh: 2,
    sort: 1,
    multi: multi,
    includeAll: true,
    allValue: '.*',
    regex: '',
    hide: 0,
    current: {
      selected: true,
      text: ['All'],
      value: ['$__all'],
    },
    options: [],
  },

  // Moves panels down by dy grid units.
  shift(panels, dy):: [p { gridPos+: { y: super.y + dy } } for p in panels],

  // The styles of the panels added with the KPI, event, purchase and segment rows.
  // A staircase of held bucket values (spanNulls bridges one day), legend as a table.
  timeseries(id, title, description, gridPos, targets, unit='short', spanNulls=86400000)::
    self.panel('timeseries', id, title, description, gridPos, targets) + {
      fieldConfig: {
        defaults: {
          custom: {
            drawStyle: 'line',
            lineInterpolation: 'stepAfter',
            lineWidth: 2,
            fillOpacity: 0,
            showPoints: 'never',
            spanNulls: spanNulls,
            axisSoftMin: 0,
          },
          unit: unit,
        },
        overrides: [],
      },
      options: {
        legend: { displayMode: 'table', placement: 'right', calcs: ['lastNotNull'], showLegend: true },
        tooltip: { mode: 'multi', sort: 'desc' },
      },
    },

  // Horizontal bars of the latest values (instant queries).
  bargauge(id, title, description, gridPos, targets, unit='short')::
    self.panel('bargauge', id, title, description, gridPos, targets) + {
      fieldConfig: {
        defaults: {
          custom: {},
          unit: unit,
          thresholds: { mode: 'absolute', steps: [{ color: 'blue', value: null }] },
        },
        overrides: [],
      },
      options: {
        orientation: 'horizontal',
        displayMode: 'gradient',
        showUnfilled: true,
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      },
    },

  // Latest values as numbers with their names (instant queries).
  stat(id, title, description, gridPos, targets, unit='short')::
    self.panel('stat', id, title, description, gridPos, targets) + {
      fieldConfig: {
        defaults: {
          custom: {},
          unit: unit,
          thresholds: { mode: 'absolute', steps: [{ color: 'text', value: null }] },
        },
        overrides: [],
      },
      options: {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        colorMode: 'none',
        graphMode: 'none',
        textMode: 'value_and_name',
        justifyMode: 'auto',
      },
    },
}
