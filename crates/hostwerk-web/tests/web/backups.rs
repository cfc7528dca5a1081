//! Backups over real HTTP, with a real repository and real files: the nightly backup on the customer's page,
//! browsing and downloading a snapshot, restores in place and into a folder (through the forms, with CSRF),
//! the on-demand allowance, isolation between customers, path checks, restore orders by staff inside a
//! verified call, and the admin's retention plan — on SQLite and PostgreSQL. The test acts as the agent: it
//! claims jobs through the use cases and runs them with `hostwerk-agent`'s backup worker.

#![allow(clippy::unwrap_used)]

use crate::support;

use std::io::Read;
use std::path::{Path, PathBuf};

use hostwerk_agent::jobs::DbClient;
use hostwerk_agent::program::backup_worker::WorkerConfig;
use hostwerk_domain::backup_job::BackupJobStatus;
use hostwerk_domain::{CustomerNumber, NodeName};
use hostwerk_protocol::backup::{AgentJob, AgentReport, FinishOutcome};
use hostwerk_store::{BackupJob, Contract, Node};
use hostwerk_web::backup_repos::open_repository;
use hostwerk_web::backups;
use hostwerk_web::config::RepositoryConfig;
use hostwerk_web::demo::DEMO_PHONE_PASSWORD;
use reqwest::StatusCode;
use support::{location, texts, TestApp};

/// The folders the app is configured with: webspaces, mail folders, one repository per webserver, the clock.
struct Site {
    _tmp: tempfile::TempDir,
    www: PathBuf,
    vmail: PathBuf,
    repos: Vec<RepositoryConfig>,
    clock: PathBuf,
}

fn site() -> Site {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().to_path_buf();
    let (www, vmail) = (base.join("www"), base.join("vmail"));
    std::fs::create_dir_all(&www).unwrap();
    std::fs::create_dir_all(&vmail).unwrap();
    let password_file = base.join("repo-password");
    std::fs::write(&password_file, "repository secret\n").unwrap();
    let repos = ["web001", "web002"]
        .into_iter()
        .map(|w| RepositoryConfig {
            webserver: w.into(),
            location: base.join(format!("repo-{w}")).display().to_string(),
            password_file: password_file.clone(),
            token_file: None,
            ca_cert: None,
        })
        .collect();
    // 23:00 in Berlin (inside the 22:00–06:00 window), far from the real date so that retention is predictable:
    // every on-demand and safety snapshot the test makes is past its days.
    let clock = base.join("clock");
    std::fs::write(&clock, "2099-11-26T22:00:00Z\n").unwrap();
    Site { _tmp: tmp, www, vmail, repos, clock }
}

fn configure(site: &Site) -> impl FnOnce(&mut hostwerk_web::Config) {
    let (www, vmail, repos, clock) = (site.www.clone(), site.vmail.clone(), site.repos.clone(), site.clock.clone());
    move |c| {
        c.webspace_root = www.display().to_string();
        c.backup.mail_root = vmail.display().to_string();
        c.backup.repositories = repos;
        c.backup.test_clock_file = Some(clock);
    }
}

async fn contract_of(app: &TestApp, number: &str) -> Contract {
    let customer = app.store.customer_by_number(CustomerNumber::parse(number).unwrap()).await.unwrap();
    app.store.contracts(customer.id).await.unwrap().remove(0)
}

async fn node(app: &TestApp, name: &str) -> Node {
    app.store.node_by_name(&NodeName::parse(name).unwrap()).await.unwrap()
}

/// What the agent does with a job: the agent's own worker against the real repository (the test's contracts
/// have no MariaDB databases to dump).
fn execute(cfg: &RepositoryConfig, job: &AgentJob) -> AgentReport {
    let repo = open_repository(cfg, true).unwrap();
    let mut job = job.clone();
    job.databases.clear();
    let worker = WorkerConfig { db: DbClient::default(), chown: false, idle: std::time::Duration::from_secs(1) };
    hostwerk_agent::program::backup_worker::execute(&repo, &job, &worker)
}

/// One agent step on `webserver`: claim a job, run it, report it. `None` when nothing may start.
async fn agent_step(app: &TestApp, site: &Site, webserver: &str) -> Option<BackupJob> {
    let node = node(app, webserver).await;
    let job = backups::claim(&app.state, &node).await.unwrap()?;
    let cfg = site.repos.iter().find(|r| r.webserver == webserver).unwrap().clone();
    let j = job.clone();
    let outcome = tokio::task::spawn_blocking(move || execute(&cfg, &j)).await.unwrap();
    let finished = backups::finish(&app.state, &node, job.id, job.attempt, &outcome).await.unwrap();
    assert!(matches!(finished, FinishOutcome::Recorded(_)), "job {} superseded", job.id);
    Some(app.store.backup_job_any(job.id).await.unwrap())
}

/// Runs the agent on `webserver` until nothing is left to start; returns the finished jobs.
async fn agent_drain(app: &TestApp, site: &Site, webserver: &str) -> Vec<BackupJob> {
    let mut done = Vec::new();
    while let Some(j) = agent_step(app, site, webserver).await {
        assert!(done.len() < 20, "the agent keeps getting work");
        done.push(j);
    }
    done
}

fn write(path: &Path, content: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// The text of the first element matching `selector` that contains `needle`.
fn has(html: &str, selector: &str, needle: &str) -> bool {
    texts(html, selector).iter().any(|t| t.contains(needle))
}

/// The values of attribute `attr` of the elements matching `selector`.
fn attrs(html: &str, selector: &str, attr: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(selector).unwrap();
    doc.select(&sel).filter_map(|e| e.value().attr(attr).map(str::to_owned)).collect()
}

/// The snapshot ids linked for browsing on a backups page.
fn snapshot_ids(html: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("tr.snapshot").unwrap();
    doc.select(&sel).filter_map(|e| e.value().attr("data-id").map(str::to_owned)).collect()
}

async fn backups_story(app: &TestApp, site: &Site) {
    let c1 = contract_of(app, "K1000001").await;
    let c2 = contract_of(app, "K1000002").await;
    let web1 = c1.node.clone().expect("K1000001's contract runs on a webserver");
    let web2 = c2.node.clone().unwrap();
    assert_ne!(web1, web2);
    let ws = PathBuf::from(&c1.webspace_path);
    assert!(ws.starts_with(&site.www), "{ws:?}");
    write(&ws.join("htdocs/index.html"), b"<h1>Erika</h1>");
    write(&ws.join("htdocs/a.txt"), b"alpha");
    let logo: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 251) as u8).collect();
    write(&ws.join("htdocs/img/logo.png"), &logo);
    write(&ws.join("htdocs/Ärger über Umlaute.txt"), "grüße".as_bytes());
    std::os::unix::fs::symlink("a.txt", ws.join("htdocs/link-to-a")).unwrap();
    write(&site.vmail.join("mustermann-shop.de/info/cur/1.eml"), b"Subject: hallo\n\nhallo\n");
    write(&PathBuf::from(&c2.webspace_path).join("htdocs/index.html"), b"<h1>Max</h1>");

    // Empty states before the first night.
    let erika = app.browser();
    assert_eq!(location(&erika.login("K1000001", "demo-password-1").await), "/menu");
    let (status, html) = erika.get_text("/menu/backups").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("14 tägliche + 3 monatliche Sicherungen"), "{html}");
    assert!(html.contains("heute 0 von 2 genutzt"));
    assert!(html.contains("Noch keine Sicherung vorhanden"));
    assert!(html.contains("Backup jetzt erstellen"));
    assert!(has(&html, "nav a", "Backups"));

    // The night: the tick queues every contract's backup; the page shows the queue.
    let tick = backups::tick(&app.state).await.unwrap();
    assert!(tick.queued_nightly >= 2, "{tick:?}");
    let (_, html) = erika.get_text(&format!("/menu/backups/{}", c1.id)).await;
    assert!(has(&html, "tr.job .job-state", "in der Warteschlange"), "{html}");
    assert!(has(&html, "tr.job", "automatisch"));
    let nightly = agent_drain(app, site, &web1).await;
    assert!(nightly.iter().all(|j| j.status == BackupJobStatus::Succeeded), "{nightly:?}");
    agent_drain(app, site, &web2).await;

    let (_, html) = erika.get_text(&format!("/menu/backups/{}", c1.id)).await;
    let snaps = snapshot_ids(&html);
    assert_eq!(snaps.len(), 1, "{html}");
    let s1 = snaps[0].clone();
    assert!(has(&html, "tr.snapshot", "nächtlich"));
    assert!(has(&html, "tr.job .job-state", "erfolgreich"));
    let s2 = app.store.contract_snapshots(c2.id).await.unwrap()[0].snapshot_id.clone();
    let base = format!("/menu/backups/{}/snapshots/{s1}", c1.id);

    // Browsing: the webspace root, then htdocs (folders first), breadcrumbs and the parent link.
    let (status, html) = erika.get_text(&base).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    // "Sicherung vom 03.12.2026, 02:15", not "Sicherung vom: …" (issue 16)
    let heading = texts(&html, "h1").remove(0);
    assert!(heading.starts_with("Sicherung vom ") && !html.contains("Sicherung vom:"), "{heading}");
    assert!(texts(&html, "tr.entry td a.open").contains(&"htdocs/".to_owned()), "{html}");
    let (status, html) = erika.get_text(&format!("{base}?path=htdocs")).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<String> = texts(&html, "tr.entry td:nth-child(2)");
    assert_eq!(names[0], "img/", "folders first: {names:?}");
    assert!(names.contains(&"a.txt".to_owned()) && names.contains(&"index.html".to_owned()), "{names:?}");
    assert!(attrs(&html, "input[name=paths]", "value").contains(&"htdocs/a.txt".to_owned()), "{html}");
    assert!(has(&html, "a.parent", "Übergeordneter Ordner"));
    assert!(has(&html, ".breadcrumbs", "Webspace / htdocs"));
    assert!(html.contains("Ganzen Webspace wiederherstellen"));
    // The mailbox area.
    assert!(has(&html, "a.mailbox-link", "info@mustermann-shop.de"));
    let (status, html) = erika.get_text(&format!("{base}?mailbox=info%40mustermann-shop.de")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(texts(&html, "tr.entry td a.open").contains(&"cur/".to_owned()), "{html}");

    // Downloads: a file as it is, a folder as tar.gz, a non-ASCII name with filename*.
    let r = erika.get(&format!("{base}/download?path=htdocs%2Fimg%2Flogo.png")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "application/octet-stream");
    assert_eq!(h["content-disposition"], "attachment; filename=\"logo.png\"");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(r.bytes().await.unwrap().as_ref(), logo.as_slice());
    let r = erika.get(&format!("{base}/download?path=htdocs")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/gzip");
    assert_eq!(r.headers()["content-disposition"], "attachment; filename=\"htdocs.tar.gz\"");
    let gz = r.bytes().await.unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(gz.as_ref()));
    let mut files = std::collections::BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        files.insert(name, data);
    }
    let find = |suffix: &str| files.iter().find(|(k, _)| k.ends_with(suffix)).map(|(_, v)| v.clone());
    assert_eq!(find("htdocs/a.txt").as_deref(), Some(b"alpha".as_slice()), "{:?}", files.keys());
    assert_eq!(find("img/logo.png").as_deref(), Some(logo.as_slice()));
    // A link has no content to download: a clear 409 before the answer starts (issue 17: it was a 200 whose
    // body then broke).
    let r = erika.get(&format!("{base}/download?path=htdocs%2Flink-to-a")).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("Dieser Eintrag ist ein Link oder eine Spezialdatei"));
    let r = erika.get(&format!("{base}/download?path=htdocs%2F%C3%84rger%20%C3%BCber%20Umlaute.txt")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let cd = r.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(cd.contains("filename*=UTF-8''%C3%84rger%20%C3%BCber%20Umlaute.txt"), "{cd}");
    assert!(cd.starts_with("attachment; filename=\"_rger _ber Umlaute.txt\""), "{cd}");
    assert_eq!(r.text().await.unwrap(), "grüße");

    // Restore in place through the form: the deleted file is back, the job succeeded, the customer has a mail.
    std::fs::remove_file(ws.join("htdocs/a.txt")).unwrap();
    let page = format!("{base}?path=htdocs");
    let action = format!("{base}/restore");
    let r = erika.post_raw(&action, &[("paths", "htdocs/a.txt"), ("target", "in_place"), ("dir", "htdocs")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "no CSRF token, no restore");
    // in place replaces what is there: the first POST asks, naming the path, and queues nothing
    let fields = [("paths", "htdocs/a.txt"), ("target", "in_place"), ("dir", "htdocs")];
    let r = erika.submit(&page, &action, &fields).await;
    assert_eq!(r.status(), StatusCode::OK);
    let asked = r.text().await.unwrap();
    assert!(texts(&asked, "#confirm-question")[0].contains("/htdocs/a.txt"), "{asked}");
    assert!(!ws.join("htdocs/a.txt").exists());
    let r = erika.submit(&page, &action, &[fields[0], fields[1], fields[2], ("confirmed", "yes")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    assert!(to.starts_with(&format!("/menu/backups/{}?done=backup_restore_queued&job=", c1.id)), "{to}");
    let job_id: i64 = to.rsplit('=').next().unwrap().parse().unwrap();
    let (_, html) = erika.get_text(&to).await;
    assert!(has(&html, "[role=status]", "Die Wiederherstellung ist beauftragt"), "{html}");
    assert!(has(&html, "#job-notice", &format!("Auftrag #{job_id}: in der Warteschlange")), "{html}");
    let restored = agent_step(app, site, &web1).await.unwrap();
    assert_eq!((restored.id, restored.status), (job_id, BackupJobStatus::Succeeded), "{restored:?}");
    assert_eq!(std::fs::read(ws.join("htdocs/a.txt")).unwrap(), b"alpha");
    app.smtp.wait_for("erika@example.com", &format!("Auftrag #{job_id}")).await;
    let (_, html) = erika.get_text(&format!("/menu/backups/{}", c1.id)).await;
    assert!(has(&html, &format!("#job-{job_id}"), "erfolgreich"));

    // Restore into a new folder.
    let r = erika.submit(&page, &action, &[("paths", "htdocs/img"), ("target", "folder"), ("dir", "htdocs")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let job = agent_step(app, site, &web1).await.unwrap();
    assert_eq!(job.status, BackupJobStatus::Succeeded, "{job:?}");
    let folder = std::fs::read_dir(&ws)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("restore-"))
        .expect("a restore-… folder");
    assert_eq!(std::fs::read(ws.join(&folder).join("htdocs/img/logo.png")).unwrap(), logo);
    // The job list names the folder it restored into (issue 16).
    let (_, html) = erika.get_text(&format!("/menu/backups/{}", c1.id)).await;
    assert_eq!(texts(&html, &format!("#job-{} .restore-folder code", job.id)), vec![folder.clone()], "{html}");

    // Nothing chosen, a bad target, a path outside the webspace, a path not in the backup.
    for (fields, status, message) in [
        (vec![("target", "folder")], StatusCode::UNPROCESSABLE_ENTITY, "mindestens eine Datei"),
        (vec![("paths", "htdocs/a.txt"), ("target", "x")], StatusCode::UNPROCESSABLE_ENTITY, "wohin"),
        (vec![("paths", "../etc"), ("target", "folder")], StatusCode::UNPROCESSABLE_ENTITY, "innerhalb des Webspace"),
        (vec![("paths", "htdocs/nope.txt"), ("target", "folder")], StatusCode::UNPROCESSABLE_ENTITY, "nicht enthalten"),
    ] {
        let r = erika.submit(&page, &action, &fields).await;
        assert_eq!(r.status(), status, "{fields:?}");
        let html = r.text().await.unwrap();
        assert!(has(&html, "[role=alert]", message), "{fields:?}: {html}");
    }
    assert_eq!(erika.get(&format!("{base}?path=..%2Fetc")).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(erika.get(&format!("{base}?path=nope")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(erika.get(&format!("{base}/download?path=htdocs%2Fnope.txt")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(erika.get(&format!("{base}/download?path=..%2Fetc")).await.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // On-demand backups: two a day in this tariff; the third is refused with a clear message.
    let od = format!("/menu/backups/{}/on-demand", c1.id);
    let one = format!("/menu/backups/{}", c1.id);
    for n in 1..=2 {
        let r = erika.submit(&one, &od, &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "on-demand {n}");
        assert!(location(&r).contains("done=backup_on_demand_queued"));
        let job = agent_step(app, site, &web1).await.unwrap();
        assert_eq!(job.status, BackupJobStatus::Succeeded, "{job:?}");
    }
    let r = erika.submit(&one, &od, &[]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(
        has(&html, "[role=alert]", "Ihre zusätzlichen Sicherungen für heute sind aufgebraucht (2 von 2)"),
        "{html}"
    );
    let (_, html) = erika.get_text(&one).await;
    assert!(html.contains("heute 2 von 2 genutzt"));
    assert!(has(&html, "tr.snapshot", "zusätzlich"));
    let english = app.browser_en();
    english.login("K1000001", "demo-password-1").await;
    english.get("/lang/en?back=/menu").await; // the login chose the profile's language
    let r = english.submit(&one, &od, &[]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(html.contains("extra backups are used up (2 of 2)"), "{}", texts(&html, "[role=alert]").join("|"));

    // Another customer sees nothing of it — neither by contract nor with a snapshot id of their own contract.
    let max = app.browser();
    max.login("K1000002", "demo-password-2").await;
    let foreign = [
        format!("/menu/backups/{}", c1.id),
        base.clone(),
        format!("{base}?path=htdocs"),
        format!("{base}/download?path=htdocs%2Fa.txt"),
        format!("/menu/backups/{}/snapshots/{s1}", c2.id),
        format!("/menu/backups/{}/snapshots/{s1}/download?path=htdocs", c2.id),
    ];
    for path in &foreign {
        assert_eq!(max.get(path).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let own = format!("/menu/backups/{}", c2.id);
    for (action, fields) in [
        (format!("{base}/restore"), vec![("paths", "htdocs/a.txt"), ("target", "folder")]),
        (
            format!("/menu/backups/{}/snapshots/{s1}/restore", c2.id),
            vec![("paths", "htdocs/a.txt"), ("target", "folder")],
        ),
        (format!("/menu/backups/{}/on-demand", c1.id), vec![]),
        (format!("/menu/backups/{}/db-restore", c1.id), vec![("snapshot", s1.as_str())]),
    ] {
        assert_eq!(max.submit(&own, &action, &fields).await.status(), StatusCode::NOT_FOUND, "{action}");
    }
    // … and the first customer cannot use the second one's snapshot either.
    assert_eq!(erika.get(&format!("/menu/backups/{}/snapshots/{s2}", c1.id)).await.status(), StatusCode::NOT_FOUND);
    let (status, html) = max.get_text(&own).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(snapshot_ids(&html), vec![s2.clone()]);

    // Staff: a restore order needs a verified call. (The clock moves on ten minutes, so that this restore's
    // folder gets a name of its own.)
    std::fs::write(&site.clock, "2099-11-26T22:10:00Z\n").unwrap();
    let support = app.browser();
    support.staff_login("support", "demo-support-1").await;
    let staff_page = "/staff/customers/K1000001/backups";
    let order = format!("/staff/customers/K1000001/backups/{}/restore", c1.id);
    let fields = [("snapshot", s1.as_str()), ("paths", "htdocs/index.html"), ("target", "folder"), ("mailbox", "")];
    assert_eq!(support.get(staff_page).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(support.submit("/staff", &order, &fields).await.status(), StatusCode::FORBIDDEN);
    let r = support
        .submit("/staff?number=K1000001", "/staff/customers/K1000001/verify", &[("password", DEMO_PHONE_PASSWORD)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, call) = support.get_text("/staff/customers/K1000001").await;
    assert!(has(&call, "#backups-link a", "Backups"));
    let (status, html) = support.get_text(staff_page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(has(&html, "tr.snapshot", "nächtlich"), "{html}");
    assert!(html.contains("Restoreauftrag"));
    let r = support.submit(staff_page, &order, &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap_or_default());
    let jobs = app.store.backup_jobs_of_contract(c1.id, 50).await.unwrap();
    let ordered = jobs.iter().max_by_key(|j| j.id).unwrap();
    assert_eq!((ordered.requested_by_kind.as_str(), ordered.status), ("staff", BackupJobStatus::Queued));
    let audit = app.store.audit_log(200).await.unwrap();
    let entry = audit.iter().find(|e| e.action == "backup.restore_ordered_by_staff").unwrap();
    assert_eq!((entry.actor_name.as_str(), entry.target.as_str()), ("support", "K1000001"));
    assert!(entry.detail.contains("verification #"), "{}", entry.detail);
    let (_, html) = support.get_text(&location(&r)).await;
    assert!(has(&html, "#job-notice", &format!("Auftrag #{}", ordered.id)));
    // A bad path is refused with the message, inside the call.
    let r = support.submit(staff_page, &order, &[("snapshot", &s1), ("paths", "../etc"), ("target", "folder")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(agent_step(app, site, &web1).await.unwrap().status, BackupJobStatus::Succeeded);

    // Admin: open jobs, the retention plan (a dry run) and its execution; support and management get 403.
    let chef = app.browser();
    chef.staff_login("chef", "demo-chef-1").await;
    for b in [&support, &chef] {
        assert_eq!(b.get("/staff/backups").await.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            b.submit("/staff", "/staff/backups/plan", &[("webserver", &web1)]).await.status(),
            StatusCode::FORBIDDEN
        );
    }
    let admin = app.browser();
    admin.staff_login("admin", "demo-admin-1").await;
    let (status, html) = admin.get_text("/staff/backups").await;
    assert_eq!(status, StatusCode::OK);
    assert!(has(&html, "#maintenance-webservers li", &web1), "{html}");
    assert!(html.contains("Aufbewahrung planen (Probelauf)"));
    assert!(html.contains("Noch keine Pläne"));
    let r = admin.submit("/staff/backups", "/staff/backups/plan", &[("webserver", &web1)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let plan_url = location(&r);
    assert!(plan_url.starts_with("/staff/backups/plans/"), "{plan_url}");
    let (status, html) = admin.get_text(&plan_url).await;
    assert_eq!(status, StatusCode::OK);
    let keep = texts(&html, ".plan-keep li");
    let remove = texts(&html, ".plan-remove li");
    assert!(keep.iter().any(|k| k.contains("täglich")), "the nightly snapshot is kept: {keep:?}");
    assert!(remove.len() >= 2, "on-demand and safety snapshots past their days: {html}");
    assert!(has(&html, "#plan-total", &format!("Zu entfernen: {}", remove.len())));
    assert_eq!(support.get(&plan_url).await.status(), StatusCode::FORBIDDEN);
    let plan_id = plan_url.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
    let execute = format!("/staff/backups/plans/{plan_id}/execute");
    assert_eq!(support.submit("/staff", &execute, &[]).await.status(), StatusCode::FORBIDDEN);
    let r = admin.submit(&plan_url, &execute, &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = admin.get_text(&location(&r)).await;
    assert_eq!(texts(&html, "#plan-result .forgotten"), vec![remove.len().to_string()], "{html}");
    assert!(!html.contains("id=\"execute-plan\""));
    let r = admin.submit(&plan_url, &execute, &[]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "a plan runs once");
    let (_, html) = erika.get_text(&one).await;
    assert!(!has(&html, "tr.snapshot", "zusätzlich"), "forgotten snapshots are gone from the page");
    assert_eq!(snapshot_ids(&html), vec![s1.clone()]);
    let (_, html) = admin.get_text("/staff/backups").await;
    assert!(has(&html, "#plans", "entfernt"));

    // Nodes: the admin assigns web001's backup server (audited).
    let backup01 = node(app, "backup01").await;
    let web = node(app, &web1).await;
    let r = admin
        .submit(
            "/staff/admin/nodes",
            &format!("/staff/admin/nodes/{}/backup-server", web.id),
            &[("backup_server", &backup01.id.to_string())],
        )
        .await;
    assert_eq!(location(&r), "/staff/admin/nodes?done=backup_server_set");
    assert_eq!(app.store.backup_server_of(web.id).await.unwrap(), Some(backup01.id));
    let (_, html) = admin.get_text("/staff/admin/nodes").await;
    assert!(texts(&html, ".assigned-backup-server").contains(&"backup01".to_owned()), "{html}");
    let audit = app.store.audit_log(50).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "node.backup_server_set" && e.target == web1));
    // a webserver cannot be a backup server
    let r = admin
        .submit(
            "/staff/admin/nodes",
            &format!("/staff/admin/nodes/{}/backup-server", web.id),
            &[("backup_server", &web.id.to_string())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(
        support
            .submit("/staff", &format!("/staff/admin/nodes/{}/backup-server", web.id), &[("backup_server", "")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // English pages have English texts.
    let (_, html) = english.get_text(&one).await;
    assert!(html.contains("14 daily + 3 monthly backups") && html.contains("Create a backup now"), "{html}");
}

#[tokio::test]
async fn backups_story_on_sqlite() {
    let site = site();
    let app = TestApp::spawn_with(configure(&site)).await;
    backups_story(&app, &site).await;
}

#[tokio::test]
async fn backups_story_on_postgres() {
    let site = site();
    let Some(app) = TestApp::spawn_postgres_with(configure(&site)).await else { return };
    backups_story(&app, &site).await;
}

/// Admission before the window: at 21:55 an on-demand backup estimated at 10 minutes would still run when a
/// 10-minute window opens at 22:00 and push that night's nightly backups past its end, so no agent gets it; at
/// 21:40 it would be done before the window and starts.
#[tokio::test]
async fn an_on_demand_backup_that_would_push_the_night_out_of_its_window_waits() {
    let site = site();
    let configure = configure(&site);
    let app = TestApp::spawn_with(move |c| {
        configure(c);
        c.backup.window = "22:00-22:10".into();
        c.backup.default_estimate_seconds = 600;
        c.backup.min_estimate_seconds = 600;
        c.backup.webserver_concurrency = 1;
        c.backup.backup_server_concurrency = 1;
    })
    .await;
    let web001 = node(&app, "web001").await;
    let backup01 = app.store.nodes().await.unwrap().into_iter().find(|n| n.name.as_str() == "backup01").unwrap();
    for web in ["web001", "web002"] {
        let n = node(&app, web).await;
        app.store.set_backup_server(n.id, Some(backup01.id)).await.unwrap();
    }
    let customer = app.store.customer_by_number(CustomerNumber::parse("K1000001").unwrap()).await.unwrap();
    let contract = contract_of(&app, "K1000001").await;
    std::fs::write(&site.clock, "2099-11-26T20:55:00Z\n").unwrap(); // 21:55 in Berlin
    let view = backups::request_on_demand(&app.state, &customer, contract.id, &backups::Requester::Customer(&customer))
        .await
        .unwrap();
    assert_eq!(view.job.status.as_str(), "queued");
    assert!(backups::claim(&app.state, &web001).await.unwrap().is_none(), "the on-demand backup started at 21:55");
    let job = app.store.backup_job(customer.id, view.job.id).await.unwrap();
    assert_eq!(job.status.as_str(), "queued");

    std::fs::write(&site.clock, "2099-11-26T20:40:00Z\n").unwrap(); // 21:40: done by 21:50
    let claimed = backups::claim(&app.state, &web001).await.unwrap().expect("the on-demand backup starts at 21:40");
    assert_eq!((claimed.id, claimed.kind.as_str()), (view.job.id, "on_demand"));
}

/// A webserver whose agent is away keeps its nightly job's place on the shared backup server until the window
/// ends (the agent may come back in time); after that, the job no longer holds the slot others need.
#[tokio::test]
async fn an_absent_agent_holds_the_backup_server_only_until_its_window_ends() {
    let site = site();
    let configure = configure(&site);
    let app = TestApp::spawn_with(move |c| {
        configure(c);
        c.backup.webserver_concurrency = 1;
        c.backup.backup_server_concurrency = 1;
    })
    .await;
    let backup01 = app.store.nodes().await.unwrap().into_iter().find(|n| n.name.as_str() == "backup01").unwrap();
    for web in ["web001", "web002"] {
        let n = node(&app, web).await;
        app.store.set_backup_server(n.id, Some(backup01.id)).await.unwrap();
    }
    write(&site.www.join("k1000001c1/htdocs/index.html"), b"<h1>hallo</h1>");
    backups::tick(&app.state).await.unwrap(); // 23:00: both nightly jobs queued
    let done = agent_drain(&app, &site, "web001").await;
    assert_eq!(done.len(), 1, "web001's nightly job ran");
    let customer = app.store.customer_by_number(CustomerNumber::parse("K1000001").unwrap()).await.unwrap();
    let contract = contract_of(&app, "K1000001").await;
    std::fs::write(&site.clock, "2099-11-26T22:30:00Z\n").unwrap(); // 23:30, web002's agent never asked
    let view = backups::request_on_demand(&app.state, &customer, contract.id, &backups::Requester::Customer(&customer))
        .await
        .unwrap();
    let web001 = node(&app, "web001").await;
    assert!(backups::claim(&app.state, &web001).await.unwrap().is_none(), "web002's nightly job lost its slot");
    std::fs::write(&site.clock, "2099-11-27T06:00:00Z\n").unwrap(); // 07:00, the window is over
    let claimed = backups::claim(&app.state, &web001).await.unwrap().expect("the on-demand backup starts");
    assert_eq!(claimed.id, view.job.id);
}
