//! One workspace's checked [`Config`], assembled from the checks of its parts: [`validate`]'s
//! (`braze`, `refresh`, `apps`, `segments`, `campaigns`, `canvases`) and [`export`]'s
//! (`export`, `discover`, `max_series`). It sits above both so that neither imports the other.

use super::api_key::KeyRequest;
use super::export::{self, ExportSettings, DEFAULT_MAX_SERIES};
use super::raw::RawConfig;
use super::validate::{braze_settings, refresh_settings, scopes, Problems};
use super::{Config, KeyNeed, Problem};

/// Checks every value of one workspace (the file's top level, or one entry of `workspaces`).
/// With [`KeyNeed::WarnIfUnreadable`] a key that cannot be read is returned as a warning
/// instead, and a placeholder stands in for it.
pub(super) fn workspace(
    raw: RawConfig,
    env_key: Option<String>,
    key_need: KeyNeed,
) -> Result<(Config, Option<Problem>), Vec<Problem>> {
    let mut problems = Problems::default();
    let refresh = refresh_settings(raw.refresh, &mut problems);
    let apps = scopes("apps", raw.apps, &mut problems);
    let segments = scopes("segments", raw.segments, &mut problems);
    let campaigns = scopes("campaigns", raw.campaigns, &mut problems);
    let canvases = scopes("canvases", raw.canvases, &mut problems);
    let exports = refresh
        .as_ref()
        .map(|refresh| export::exports(raw.export, refresh, &campaigns, &mut problems));
    let discover = export::discover(raw.discover, &mut problems);
    let max_series = export::max_series(raw.max_series, &mut problems);
    // The key is asked for once the exported kinds are known (a missing key names their
    // permissions); `braze`'s problems still come first, as the block does in the file.
    let key = KeyRequest {
        env: env_key,
        need: key_need,
        permissions: permissions(exports.iter().flatten()),
    };
    let mut key_warning = None;
    let mut braze_problems = Problems::default();
    let braze = braze_settings(raw.braze, &key, &mut key_warning, &mut braze_problems);
    problems.0.splice(0..0, braze_problems.0);
    match (braze, refresh, exports, problems.0.is_empty()) {
        (Some(braze), Some(refresh), Some(exports), true) => Ok((
            Config {
                workspace: None,
                braze,
                refresh,
                apps,
                segments,
                campaigns,
                canvases,
                exports,
                discover,
                max_series: max_series.unwrap_or(DEFAULT_MAX_SERIES),
            },
            key_warning,
        )),
        _ => Err(problems.0),
    }
}

/// The permissions of the kinds `exports` export, each once, in the kinds' order.
fn permissions<'a>(exports: impl Iterator<Item = &'a ExportSettings>) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for kind in exports.flat_map(|e| &e.kinds) {
        let permission = kind.spec().permission;
        if !out.contains(&permission) {
            out.push(permission);
        }
    }
    out
}
