// Renders a Prometheus rules file as YAML in the layout Prometheus's own docs use (each rule's
// keys in the order record|alert, expr, for, keep_firing_for, labels, annotations), which
// std.manifestYamlDoc cannot do (it sorts keys). Multi-line strings become `|` blocks, long
// one-line strings folded `>-` blocks. A rule's hidden field `comment::` is written as
// `#` lines above it.
local width = 96;

// Whether `a` directly followed by `b` occurs in s (single characters). jsonnet 0.18's
// std.findSubstr and per-character comprehensions made a render take tens of seconds; std.split
// and std.stripChars are native enough.
local hasPair(s, a, b) =
  local parts = std.split(s, a);
  std.length([p for p in parts[1:] if std.startsWith(p, b)]) > 0;

local hasDoubleSpace(s) =
  local parts = std.split(s, ' ');
  std.length([i for i in std.range(1, std.length(parts) - 2) if parts[i] == '']) > 0;

local plainOk(s) =
  std.length(s) > 0
  && !hasPair(s, ':', ' ')
  && !hasPair(s, ' ', '#')
  && !std.member('-?:,[]{}#&*!|>\'"%@`', s[0])
  && !std.endsWith(s, ':')
  && !std.member(['true', 'false', 'null', 'yes', 'no', 'on', 'off', '~'], std.asciiLower(s))
  && std.length(std.split(s, '\t')) == 1
  && !(std.stripChars(s, '0123456789.-+e') == '' && std.length(std.split(s, '.')) <= 2);

// Words of s, keeping each Go template action ({{ ... }}) whole.
// (Counted by braces, which templates use only in pairs: std.findSubstr is slow in jsonnet 0.18.)
local opens(t) = std.length(std.split(t, '{')) > std.length(std.split(t, '}'));
local words(s) =
  std.foldl(
    function(acc, word)
      local n = std.length(acc);
      if n > 0 && opens(acc[n - 1]) then acc[0:n - 1] + [acc[n - 1] + ' ' + word]
      else acc + [word],
    std.split(s, ' '),
    []
  );

local wrap(s, w) =
  std.foldl(
    function(acc, word)
      if std.length(acc) == 0 then [word]
      else
        local last = acc[std.length(acc) - 1];
        if std.length(last) + 1 + std.length(word) > w then acc + [word]
        else acc[0:std.length(acc) - 1] + [last + ' ' + word],
    words(s),
    []
  );

local indentLines(lines, pad) = std.join('\n', [if l == '' then '' else pad + l for l in lines]);

// `key: value` at indentation `pad`.
local scalar(pad, key, v) =
  if std.type(v) != 'string' then pad + key + ': ' + std.toString(v)
  else if std.length(std.split(v, '\n')) > 1 then
    local body = if std.endsWith(v, '\n') then std.substr(v, 0, std.length(v) - 1) else v;
    pad + key + ': |' + (if std.endsWith(v, '\n') then '' else '-') + '\n'
    + indentLines(std.split(body, '\n'), pad + '  ')
  else if std.length(pad + key) + 2 + std.length(v) <= width + 4 || std.length(std.split(v, ' ')) == 1 then
    pad + key + ': ' + (if plainOk(v) then v else std.escapeStringJson(v))
  else if !hasDoubleSpace(v) && !std.startsWith(v, ' ') && !std.endsWith(v, ' ') then
    pad + key + ': >-\n' + indentLines(wrap(v, width - std.length(pad)), pad + '  ')
  else pad + key + ': ' + std.escapeStringJson(v);

// Annotations in the order a reader wants them, then the rest sorted.
local first = ['summary', 'description', 'runbook_url'];
local map(pad, key, o) =
  local keys = [k for k in first if std.objectHas(o, k)] + [k for k in std.objectFields(o) if !std.member(first, k)];
  pad + key + ':\n' + std.join('\n', [scalar(pad + '  ', k, o[k]) for k in keys]);

local ruleKeys = ['record', 'alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations'];

local rule(pad, r) =
  local fields = [k for k in ruleKeys if std.objectHas(r, k)];
  local unknown = [k for k in std.objectFields(r) if !std.member(ruleKeys, k)];
  assert unknown == [] : 'rules-yaml: unknown rule keys ' + std.toString(unknown);
  local comment =
    if std.objectHasAll(r, 'comment') then
      indentLines([if l == '' then '#' else '# ' + l for l in std.split(std.rstripChars(r.comment, '\n'), '\n')], pad) + '\n'
    else '';
  local lines = [
    if std.type(r[k]) == 'object' then map(pad + '  ', k, r[k]) else scalar(pad + '  ', k, r[k])
    for k in fields
  ];
  comment + pad + '- ' + std.lstripChars(lines[0], ' ') + '\n' + std.join('\n', lines[1:]);

local group(g) =
  '  - name: ' + g.name + '\n'
  + (if std.objectHas(g, 'interval') then '    interval: ' + g.interval + '\n' else '')
  + '    rules:\n'
  + std.join('\n', [rule('      ', r) + (if std.objectHas(r, 'alert') then '\n' else '') for r in g.rules]);

{
  // header: comment lines (without `#`) for the top of the file.
  manifest(groups, header)::
    indentLines([if l == '' then '#' else '# ' + l for l in std.split(std.rstripChars(header, '\n'), '\n')], '') + '\n'
    + 'groups:\n'
    + std.join('\n', [std.rstripChars(group(g), '\n') + '\n' for g in groups]),

  // Joins a `|||` text block into one line (for annotations, written folded in the YAML).
  line(text):: std.join(' ', std.split(std.rstripChars(text, '\n'), '\n')),
}
