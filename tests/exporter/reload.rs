//! Reloading the configuration: SIGHUP and POST /-/reload, good and bad files.

use crate::support::{sample, simulator, Exporter, Workspace};

const CONFIG_TAIL: &str = "segments:\n  - name: paying\n    id: demo-seg-paying\n";

fn write_apps(ws: &Workspace, apps: &[(&str, &str)]) {
    let text = std::fs::read_to_string(ws.config()).unwrap();
    let head = &text[..text.find("apps:").unwrap()];
    let mut config = format!("{head}apps:\n");
    for (name, id) in apps {
        config.push_str(&format!("  - name: {name}\n    id: {id}\n"));
    }
    config.push_str(CONFIG_TAIL);
    std::fs::write(ws.config(), config).unwrap();
}

fn has(text: &str, app: &str) -> bool {
    text.contains(&format!("braze_sessions{{app_name=\"{app}\""))
}

#[tokio::test]
async fn post_reload_applies_a_good_file_and_keeps_the_old_one_on_a_bad_file() {
    let sim = simulator(|_| {}).await;
    let ws = Workspace::new(&sim.url(), "");
    let exporter = Exporter::start(&ws.config(), &["--web.enable-lifecycle"]).await;
    exporter
        .wait_for_metrics("the first refresh", |t| has(t, "android"))
        .await;
    let ios_requests = sim.requests_for(Some("demo-app-ios"), None);

    // android goes, web comes.
    write_apps(&ws, &[("ios", "demo-app-ios"), ("web", "demo-app-web")]);
    let response = exporter.post("/-/reload").await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let text = exporter.metrics().await;
    assert!(
        !text.contains("app_name=\"android\""),
        "removed series vanish at once:\n{text}"
    );
    let text = exporter
        .wait_for_metrics("the new series", |t| has(t, "web"))
        .await;
    assert!(has(&text, "ios"));
    assert_eq!(
        sample(&text, "braze_config_last_reload_successful"),
        Some(1.0)
    );
    assert_eq!(sample(&text, "braze_series"), Some(6.0));
    assert_eq!(
        sim.requests_for(Some("demo-app-ios"), None),
        ios_requests,
        "an unchanged series is not fetched again early"
    );

    // A bad file: refused with its reason, the running configuration stays.
    std::fs::write(
        ws.config(),
        std::fs::read_to_string(ws.config())
            .unwrap()
            .replace("timeout: 2s", "timeout: 2s\n  max_concurrency: 0"),
    )
    .unwrap();
    let response = exporter.post("/-/reload").await;
    assert_eq!(response.status(), 500);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("braze.max_concurrency: must be between 1 and 64, got 0"),
        "{body}"
    );
    let text = exporter.metrics().await;
    assert_eq!(
        sample(&text, "braze_config_last_reload_successful"),
        Some(0.0)
    );
    assert!(has(&text, "web") && has(&text, "ios"), "{text}");

    let (code, output) = exporter.terminate().await;
    assert_eq!(code, Some(0));
    assert!(output.contains("configuration reload failed"), "{output}");
}

#[tokio::test]
async fn sighup_reloads_and_post_needs_the_lifecycle_flag() {
    let sim = simulator(|_| {}).await;
    let ws = Workspace::new(&sim.url(), "");
    let exporter = Exporter::start(&ws.config(), &[]).await;
    exporter
        .wait_for_metrics("the first refresh", |t| has(t, "android"))
        .await;
    assert_eq!(exporter.post("/-/reload").await.status(), 403);

    write_apps(&ws, &[("web", "demo-app-web")]);
    exporter.signal("HUP");
    let text = exporter
        .wait_for_metrics("the reload", |t| {
            has(t, "web") && !t.contains("app_name=\"ios\"")
        })
        .await;
    assert_eq!(sample(&text, "braze_series"), Some(4.0));
    let (code, _) = exporter.terminate().await;
    assert_eq!(code, Some(0));
}

#[tokio::test]
async fn the_demos_lifecycle_reload_is_not_a_failure() {
    let exporter = Exporter::start(
        std::path::Path::new("/nonexistent/braze-exporter.yml"),
        &["--demo", "--web.enable-lifecycle"],
    )
    .await;
    let response = exporter.post("/-/reload").await;
    assert_eq!(response.status(), 200);
    let text = exporter
        .wait_for_metrics("the reload's outcome", |t| {
            t.contains("braze_config_last_reload_successful")
        })
        .await;
    assert!(
        text.contains("braze_config_last_reload_successful 1"),
        "{text}"
    );
    let (_, log) = exporter.terminate().await;
    assert!(!log.contains("level=error"), "{log}");
    assert!(log.contains("nothing to reload"), "{log}");
}
