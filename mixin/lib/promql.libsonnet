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

  // `numerator` / `denominator` of the latest complete day, two message field names
  // (braze_campaign_message_<field>, braze_canvas_step_message_<field>): per campaign and
  // channel with the variations summed (a campaign's variations are disjoint parts of its
  // audience, and Braze gives no total to confuse them with), and per Canvas step and channel.
  // Absent where the denominator is 0 or either field is missing. `canvasNumerator` reads
  // another field of Canvas steps where Braze names it differently there.
  messageRatio(numerator, denominator, canvasNumerator=numerator, canvasSelector='')::
    |||
      sum without (variation) (braze_campaign_message_%(n)s)
      /
      (sum without (variation) (braze_campaign_message_%(d)s) > 0)
      or
      braze_canvas_step_message_%(cn)s%(cs)s
      /
      (braze_canvas_step_message_%(d)s > 0)
    ||| % { n: numerator, d: denominator, cn: canvasNumerator, cs: canvasSelector },

  // The value a Canvas's `metric` (labels canvas, variant, ...) had on the same day one week
  // earlier: as lastWeek for day series, with the Canvas's one bucket timestamp (no variant).
  canvasLastWeek(metric):: |||
    %(m)s offset 1w
    and ignoring(variant)
    (
      abs(
        braze_canvas_bucket_timestamp_seconds offset 1w
        - (braze_canvas_bucket_timestamp_seconds - 604800)
      ) <= 3600
    )
  ||| % { m: metric },
}
