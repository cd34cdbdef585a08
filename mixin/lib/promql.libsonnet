// PromQL shared by the rules.
{
  // The value `metric` had in the same bucket one week earlier, for the given units, as
  // braze:sessions:last_week does it: `offset 1w`, kept only where last week's bucket really is
  // this bucket minus one week (hour), or within the hour a daylight-saving change moves a day
  // bucket's start (day).
  lastWeek(metric, units=['hour', 'day'])::
    local m = { m: metric };
    local hour = |||
      %(m)s{unit="hour"} offset 1w
      and
      (
        %(m)s_bucket_timestamp_seconds{unit="hour"} offset 1w
        == %(m)s_bucket_timestamp_seconds{unit="hour"} - 604800
      )
    ||| % m;
    local day = |||
      %(m)s{unit="day"} offset 1w
      and
      (
        abs(
          %(m)s_bucket_timestamp_seconds{unit="day"} offset 1w
          - (%(m)s_bucket_timestamp_seconds{unit="day"} - 604800)
        ) <= 3600
      )
    ||| % m;
    std.join('or\n', [if u == 'hour' then hour else day for u in units]),

  // Relative change of `metric` against its `lastWeek` recording rule.
  changeRatio(metric, lastWeek):: |||
    (%(m)s - %(l)s)
    /
    (%(l)s > 0)
  ||| % { m: metric, l: lastWeek },
}
