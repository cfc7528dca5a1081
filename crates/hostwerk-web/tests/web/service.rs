//! Customer service over real HTTP: requests to support and to management, who can see them (support never
//! sees management's, no customer sees another's), internal notes, mails both ways, response-time figures, the
//! guarantee loop with its transitions and bookings (credit note, early end with refund and free month), and
//! remote-support invitations. A real SMTP sink receives the mails.

#![allow(clippy::unwrap_used)]

use crate::support;

use hostwerk_domain::refund::early_end;
use hostwerk_domain::ContractStatus;
use hostwerk_web::demo::DEMO_PHONE_PASSWORD;
use reqwest::StatusCode;
use support::{customer, location, staff, texts, Browser, TestApp};

const ERIKA: &str = "erika@example.com";
const MANAGEMENT: &str = "geschaeftsleitung@hostwerk.invalid";
const SUPPORT: &str = "support@hostwerk.invalid";

/// Opens a request and returns its id (from the redirect).
async fn open_case(b: &Browser, channel: &str, subject: &str, text: &str) -> i64 {
    let r = b
        .submit(
            "/menu/service",
            "/menu/service",
            &[("channel", channel), ("category", "contract"), ("subject", subject), ("text", text)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "open {subject}");
    let to = location(&r);
    to.trim_start_matches("/menu/service/").split('?').next().unwrap().parse().unwrap()
}

/// Posts a staff form (the CSRF token comes from the console's start page).
async fn staff_post(b: &Browser, action: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
    let r = b.submit("/staff", action, fields).await;
    let status = r.status();
    (status, r.text().await.unwrap())
}

async fn customer_post(b: &Browser, action: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
    let r = b.submit("/menu", action, fields).await;
    let status = r.status();
    (status, r.text().await.unwrap())
}

async fn open_proposal_id(b: &Browser, case: i64) -> i64 {
    let (_, page) = b.get_text(&format!("/staff/cases/{case}")).await;
    let doc = scraper::Html::parse_document(&page);
    let sel = scraper::Selector::parse("#proposals li").unwrap();
    let last = doc.select(&sel).next_back().expect("a proposal").value().attr("id").unwrap().to_owned();
    last.trim_start_matches("proposal-").parse().unwrap()
}

#[tokio::test]
async fn management_requests_never_reach_support() {
    let app = TestApp::spawn().await;
    let erika = customer(&app, "K1000001", "demo-password-1").await;
    let ordinary = open_case(&erika, "support", "Frage zur Rechnung", "Wo finde ich meine Rechnung?").await;
    let private = open_case(&erika, "management", "Beschwerde Ausfall", "Mein Shop war zwei Tage offline.").await;
    app.smtp.wait_for(SUPPORT, "Frage zur Rechnung").await;
    app.smtp.wait_for(MANAGEMENT, "Beschwerde Ausfall").await;
    assert!(!app
        .smtp
        .all()
        .iter()
        .any(|m| m.to.iter().any(|t| t == SUPPORT) && support::smtp::decoded(&m.data).contains("Beschwerde")));

    for (login, password) in [("support", "demo-support-1"), ("admin", "demo-admin-1")] {
        let b = staff(&app, login, password).await;
        // not in the queue, not by any search, not by id, and no action on it
        let (_, queue) = b.get_text("/staff/cases").await;
        assert!(queue.contains("Frage zur Rechnung") && !queue.contains("Beschwerde"), "{login} queue");
        for q in ["?q=K1000001", "?q=Beschwerde", "?q=Ausfall&status=new", "?status=new"] {
            let (_, page) = b.get_text(&format!("/staff/cases{q}")).await;
            let rows = texts(&page, "#queue tbody tr");
            assert!(rows.iter().all(|r| !r.contains("Beschwerde")), "{login} search {q}: {rows:?}");
        }
        assert_eq!(b.get(&format!("/staff/cases/{private}")).await.status(), StatusCode::NOT_FOUND, "{login}");
        for (action, fields) in [
            ("reply", vec![("text", "Hallo"), ("status", "")]),
            ("note", vec![("text", "intern")]),
            ("status", vec![("status", "solved")]),
            ("assign", vec![("login", "support")]),
            ("proposals", vec![("kind", "credit_note"), ("amount", "10")]),
        ] {
            let (status, _) = staff_post(&b, &format!("/staff/cases/{private}/{action}"), &fields).await;
            assert!(matches!(status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN), "{login} {action}: {status}");
        }
        assert_eq!(b.get(&format!("/staff/cases/{ordinary}")).await.status(), StatusCode::OK);
    }
    let chef = staff(&app, "chef", "demo-chef-1").await;
    let (_, queue) = chef.get_text("/staff/cases").await;
    assert!(queue.contains("Beschwerde Ausfall") && queue.contains("Frage zur Rechnung"));
    // Support may not make proposals even on its own queue.
    let support = staff(&app, "support", "demo-support-1").await;
    let (status, _) =
        staff_post(&support, &format!("/staff/cases/{ordinary}/proposals"), &[("kind", "measure"), ("text", "x")])
            .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Management cannot be given to support.
    let (status, page) = staff_post(&chef, &format!("/staff/cases/{private}/assign"), &[("login", "support")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("kann diese Warteschlange nicht bearbeiten"));
    // Nothing was done on it by support or admin.
    let target = format!("case #{private}");
    assert!(app.store.audit_log(500).await.unwrap().iter().all(|e| e.target != target || e.actor_name == "K1000001"));
}

#[tokio::test]
async fn customers_see_only_their_own_requests_and_no_internal_notes() {
    let app = TestApp::spawn().await;
    let erika = customer(&app, "K1000001", "demo-password-1").await;
    let max = customer(&app, "K1000002", "demo-password-2").await;
    let case = open_case(&erika, "support", "Mailproblem", "Ich kann keine Mails senden.").await;
    let support = staff(&app, "support", "demo-support-1").await;
    let (status, _) =
        staff_post(&support, &format!("/staff/cases/{case}/note"), &[("text", "Kunde nervt, SPF prüfen")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = staff_post(
        &support,
        &format!("/staff/cases/{case}/reply"),
        &[("text", "Bitte nutzen Sie Port 465 mit SSL."), ("status", "")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    app.smtp.wait_for(ERIKA, "Port 465").await;
    assert!(!app.smtp.all().iter().any(|m| support::smtp::decoded(&m.data).contains("SPF")), "notes are never mailed");

    let (_, page) = erika.get_text(&format!("/menu/service/{case}")).await;
    assert!(page.contains("Port 465") && !page.contains("SPF"), "no internal note for the customer");
    assert_eq!(texts(&page, "#case-status"), vec!["wartet auf Kunde"]);
    let (_, page) = support.get_text(&format!("/staff/cases/{case}")).await;
    assert!(page.contains("SPF prüfen"), "staff see the note");

    // another customer: not listed, not readable, cannot write on it
    let (_, list) = max.get_text("/menu/service").await;
    assert!(!list.contains("Mailproblem"));
    assert_eq!(max.get(&format!("/menu/service/{case}")).await.status(), StatusCode::NOT_FOUND);
    let (status, _) = customer_post(&max, &format!("/menu/service/{case}/reply"), &[("text", "fremd")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // the customer's reply brings it back to us and mails the queue
    let (status, _) =
        customer_post(&erika, &format!("/menu/service/{case}/reply"), &[("text", "Geht jetzt, danke!")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    app.smtp.wait_for(SUPPORT, "K1000001: Mailproblem").await;
    let (_, page) = erika.get_text(&format!("/menu/service/{case}")).await;
    assert_eq!(texts(&page, "#case-status"), vec!["wartet auf uns"]);

    // response-time figures count the answer
    let (_, figures) = support.get_text("/staff/cases").await;
    let rows = texts(&figures, "#figures tbody tr");
    assert!(rows[0].starts_with("Kundenservice") && rows[0].contains('1'), "{rows:?}");

    // bad input: clear messages, never a 500
    let (status, page) = customer_post(
        &erika,
        "/menu/service",
        &[("channel", "support"), ("category", "contract"), ("subject", "x"), ("text", "y")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Der Betreff muss 3 bis 200 Zeichen lang sein."));
    let (status, _) = customer_post(
        &erika,
        "/menu/service",
        &[("channel", "chef"), ("category", "contract"), ("subject", "xyz"), ("text", "y")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(erika.get("/menu/service/abc").await.status(), StatusCode::BAD_REQUEST);
}

async fn guarantee_story(app: &TestApp) {
    let erika = customer(app, "K1000001", "demo-password-1").await;
    let max = customer(app, "K1000002", "demo-password-2").await;
    let chef = staff(app, "chef", "demo-chef-1").await;
    let case = open_case(&erika, "management", "Unzufrieden", "Ich möchte kündigen, der Service war schlecht.").await;
    let erika_id = app.store.customer_by_number("K1000001".parse().unwrap()).await.unwrap().id;
    let contract = app.store.contracts(erika_id).await.unwrap().remove(0);

    // 1. a credit note; the customer declines it
    let (status, page) = staff_post(
        &chef,
        &format!("/staff/cases/{case}/proposals"),
        &[("kind", "credit_note"), ("amount", "25,00"), ("text", "Entschuldigung!")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    app.smtp.wait_for(ERIKA, "Wir schreiben Ihnen 25,00").await;
    let credit = open_proposal_id(&chef, case).await;
    // a second proposal while one is open is refused
    let (status, page) =
        staff_post(&chef, &format!("/staff/cases/{case}/proposals"), &[("kind", "measure"), ("text", "Anruf")]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("Ein anderer Vorschlag ist noch offen"));
    // another customer cannot answer it
    let (status, _) = customer_post(&max, &format!("/menu/service/proposals/{credit}/accept"), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = customer_post(
        &erika,
        &format!("/menu/service/proposals/{credit}/decline"),
        &[("comment", "Geld hilft nicht.")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    app.smtp.wait_for(MANAGEMENT, "proposal_declined").await;
    // decided once: accepting or declining again is refused with the reason
    let (status, page) = customer_post(&erika, &format!("/menu/service/proposals/{credit}/accept"), &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("Dieser Vorschlag wurde bereits abgelehnt."), "{page}");
    let (status, page) = staff_post(&chef, &format!("/staff/proposals/{credit}/withdraw"), &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("bereits abgelehnt"));
    assert!(app.store.ledger(erika_id).await.unwrap().is_empty(), "a declined credit note books nothing");

    // 2. early termination with the free month; the customer accepts with it. A day before the start is refused.
    let (status, page) = staff_post(
        &chef,
        &format!("/staff/cases/{case}/proposals"),
        &[("kind", "early_end"), ("contract_id", &contract.id.to_string()), ("last_day", "2020-01-01")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("nicht vor seinem Beginn"), "{page}");
    let last_day = hostwerk_domain::calendar::berlin_date(chrono::Utc::now());
    let (status, page) = staff_post(
        &chef,
        &format!("/staff/cases/{case}/proposals"),
        &[("kind", "early_end"), ("contract_id", &contract.id.to_string()), ("last_day", &last_day.to_string())],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    let end = open_proposal_id(&chef, case).await;
    let expected = early_end(
        contract.start_date,
        contract.billing_period,
        contract.period_price(),
        contract.prepaid_until,
        last_day,
        true,
    )
    .unwrap();
    let (_, page) = erika.get_text(&format!("/menu/service/{case}")).await;
    assert!(page.contains(&expected.refund.format(hostwerk_domain::Language::De)), "refund shown before accepting");
    let (status, _) =
        customer_post(&erika, &format!("/menu/service/proposals/{end}/accept"), &[("free_month", "yes")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let after = app.store.contract(erika_id, contract.id).await.unwrap();
    assert_eq!(after.status, ContractStatus::Terminating);
    assert_eq!(after.end_date, Some(expected.last_service_day));
    let month_later = hostwerk_domain::add_months(last_day.succ_opt().unwrap(), 1).pred_opt().unwrap();
    assert_eq!(expected.last_service_day, month_later, "the free month");
    let refunds = app.store.refunds(erika_id).await.unwrap();
    assert_eq!((refunds.len(), refunds[0].amount, refunds[0].free_month), (1, expected.refund, true));
    let ledger = app.store.ledger(erika_id).await.unwrap();
    assert_eq!((ledger[0].kind.as_str(), ledger[0].amount), ("refund", expected.refund));
    app.smtp.wait_for(ERIKA, "Erstattung vorausbezahlter").await;
    // accepting twice is refused; the booking is not repeated
    let (status, page) =
        customer_post(&erika, &format!("/menu/service/proposals/{end}/accept"), &[("free_month", "yes")]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("bereits angenommen"));
    assert_eq!(app.store.refunds(erika_id).await.unwrap().len(), 1);
    // the dashboard shows the end and the refund
    let (_, dash) = erika.get_text("/menu").await;
    assert!(dash.contains(&hostwerk_domain::calendar::format_date(month_later, hostwerk_domain::Language::De)));
    assert_eq!(
        texts(&dash, ".refund"),
        vec![format!("Erstattung: {}", expected.refund.format(hostwerk_domain::Language::De))]
    );
    // the housekeeping ends it after the last day of service, not before
    assert_eq!(app.store.end_due_contracts(month_later).await.unwrap(), 0);
    assert_eq!(app.store.end_due_contracts(month_later.succ_opt().unwrap()).await.unwrap(), 1);
    assert_eq!(app.store.contract(erika_id, contract.id).await.unwrap().status, ContractStatus::Terminated);
    // the timeline keeps every step
    let (_, page) = chef.get_text(&format!("/staff/cases/{case}")).await;
    for step in ["Vorschlag abgelehnt", "Vorschlag angenommen", "Geld hilft nicht."] {
        assert!(page.contains(step), "{step}");
    }
    assert!(app.store.audit_log(500).await.unwrap().iter().any(|e| e.action == "proposal.accepted"));

    // 3. a credit note accepted on a new request is booked on the ledger; a date before the start is refused
    let case2 = open_case(&erika, "management", "Noch etwas", "Die Rechnung war zu hoch.").await;
    let (status, page) = staff_post(
        &chef,
        &format!("/staff/cases/{case2}/proposals"),
        &[("kind", "early_end"), ("contract_id", &contract.id.to_string()), ("last_day", "2027-01-01")],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("Der Vertrag ist bereits beendet."), "{page}");
    let (status, page) =
        staff_post(&chef, &format!("/staff/cases/{case2}/proposals"), &[("kind", "credit_note"), ("amount", "-5")])
            .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    staff_post(&chef, &format!("/staff/cases/{case2}/proposals"), &[("kind", "credit_note"), ("amount", "12,50")])
        .await;
    let credit2 = open_proposal_id(&chef, case2).await;
    let (status, _) = customer_post(&erika, &format!("/menu/service/proposals/{credit2}/accept"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let ledger = app.store.ledger(erika_id).await.unwrap();
    assert_eq!((ledger[0].kind.as_str(), ledger[0].amount.get()), ("credit_note", 1250));
}

#[tokio::test]
async fn the_guarantee_loop_on_sqlite() {
    guarantee_story(&TestApp::spawn().await).await;
}

#[tokio::test]
async fn the_guarantee_loop_on_postgres() {
    let Some(app) = TestApp::spawn_postgres().await else {
        eprintln!("skipped: HOSTWERK_TEST_POSTGRES_URL is not set");
        return;
    };
    guarantee_story(&app).await;
}

#[tokio::test]
async fn remote_support_invitation_consent_and_record() {
    let app = TestApp::spawn().await;
    let support = staff(&app, "support", "demo-support-1").await;
    // no invitation without a verified call
    let (status, _) = staff_post(&support, "/staff/customers/K1000001/remote-invite", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) =
        staff_post(&support, "/staff/customers/K1000001/verify", &[("password", DEMO_PHONE_PASSWORD)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = staff_post(&support, "/staff/customers/K1000001/remote-invite", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let mail = support::smtp::decoded(&app.smtp.wait_for(ERIKA, "Fernwartung").await.data);
    let link = mail.split_whitespace().find(|w| w.contains("/remote/")).unwrap().to_owned();
    let path = link.trim_start_matches(&app.base).to_owned();
    let token = path.trim_start_matches("/remote/");
    assert!(token.len() >= 32 && !app.store.audit_log(100).await.unwrap().iter().any(|e| e.detail.contains(token)));

    // the page detects the system and lists the others; it says the session is optional
    let windows =
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36";
    let visitor = reqwest::Client::builder()
        .cookie_store(true)
        .user_agent(windows)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = visitor.get(app.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let page = r.text().await.unwrap();
    assert_eq!(texts(&page, "#detected-os"), vec!["Windows"]);
    assert!(page.contains("TeamViewerQS.exe") && page.contains("freiwillig"));
    assert_eq!(texts(&page, "#other-downloads li").len(), 4);
    let android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36";
    let page = reqwest::Client::builder()
        .user_agent(android)
        .build()
        .unwrap()
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(texts(&page, "#detected-os"), vec!["Android"]);
    assert_eq!(app.browser().get(&format!("/remote/{}", "0".repeat(64))).await.status(), StatusCode::NOT_FOUND);

    // staff cannot record a start before consent
    let (_, list) = support.get_text("/staff/remote").await;
    let session_id: i64 = texts(&list, "#remote-sessions tbody td")[0].parse().unwrap();
    let (status, page) = staff_post(&support, &format!("/staff/remote/{session_id}/start"), &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("noch nicht zugestimmt"));

    // consent through the page (its own CSRF token)
    let csrf = support::csrf_of(&visitor.get(app.url(&path)).send().await.unwrap().text().await.unwrap());
    let r = visitor.post(app.url(&format!("{path}/consent"))).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(texts(&r.text().await.unwrap(), "#consented").len(), 1);

    // another staff member cannot record on it
    let chef = staff(&app, "chef", "demo-chef-1").await;
    let (status, _) = staff_post(&chef, &format!("/staff/remote/{session_id}/start"), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(staff_post(&support, &format!("/staff/remote/{session_id}/start"), &[]).await.0, StatusCode::SEE_OTHER);
    let (status, _) =
        staff_post(&support, &format!("/staff/remote/{session_id}/end"), &[("note", "Outlook eingerichtet")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // the customer sees it in the menu
    let erika = customer(&app, "K1000001", "demo-password-1").await;
    let (_, page) = erika.get_text("/menu/service").await;
    let row = texts(&page, "#remote-sessions tbody tr").remove(0);
    assert!(row.contains("Outlook eingerichtet"), "{row}");
    let actions: Vec<String> = app.store.audit_log(100).await.unwrap().into_iter().map(|e| e.action).collect();
    for a in ["remote.invited", "remote.consented", "remote.started", "remote.ended"] {
        assert!(actions.iter().any(|x| x == a), "{a}");
    }
}

#[tokio::test]
async fn free_months_tariff_changes_withdrawal_and_assignment() {
    let app = TestApp::spawn().await;
    let max = customer(&app, "K1000002", "demo-password-2").await;
    let chef = staff(&app, "chef", "demo-chef-1").await;
    let max_id = app.store.customer_by_number("K1000002".parse().unwrap()).await.unwrap().id;
    let contract = app.store.contracts(max_id).await.unwrap().remove(0);
    let case = open_case(&max, "management", "Tarif zu teuer", "Der Server ist zu groß für uns.").await;

    // assignment to a management member, kept off the customer's timeline
    let (status, _) = staff_post(&chef, &format!("/staff/cases/{case}/assign"), &[("login", "chef")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, queue) = chef.get_text("/staff/cases").await;
    assert!(texts(&queue, "#queue tbody tr")[0].contains("Anna Chefin"));
    let (_, page) = max.get_text(&format!("/menu/service/{case}")).await;
    assert!(!page.contains("zugewiesen"), "assignment is internal");

    // a proposal can be withdrawn, then not withdrawn again, and not accepted
    let id = contract.id.to_string();
    staff_post(&chef, &format!("/staff/cases/{case}/proposals"), &[("kind", "measure"), ("text", "Wir rufen Sie an.")])
        .await;
    let measure = open_proposal_id(&chef, case).await;
    assert_eq!(staff_post(&chef, &format!("/staff/proposals/{measure}/withdraw"), &[]).await.0, StatusCode::SEE_OTHER);
    let (status, page) = customer_post(&max, &format!("/menu/service/proposals/{measure}/accept"), &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("zurückgezogen"));

    // free months: bad counts refused, two months extend the prepaid period when accepted
    let (status, _) = staff_post(
        &chef,
        &format!("/staff/cases/{case}/proposals"),
        &[("kind", "free_months"), ("contract_id", &id), ("months", "13")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    staff_post(
        &chef,
        &format!("/staff/cases/{case}/proposals"),
        &[("kind", "free_months"), ("contract_id", &id), ("months", "2")],
    )
    .await;
    let free = open_proposal_id(&chef, case).await;
    assert_eq!(
        customer_post(&max, &format!("/menu/service/proposals/{free}/accept"), &[]).await.0,
        StatusCode::SEE_OTHER
    );
    let after = app.store.contract(max_id, contract.id).await.unwrap();
    assert_eq!(after.prepaid_until, hostwerk_domain::add_months(contract.prepaid_until, 2));

    // tariff change: the same tariff is refused; another one is scheduled for the next period when accepted
    let case2 = open_case(&max, "management", "Noch einmal Tarif", "Bitte kleiner.").await;
    let (status, _) = staff_post(
        &chef,
        &format!("/staff/cases/{case2}/proposals"),
        &[("kind", "tariff_change"), ("contract_id", &id), ("tariff_id", "managed-server")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    staff_post(
        &chef,
        &format!("/staff/cases/{case2}/proposals"),
        &[("kind", "tariff_change"), ("contract_id", &id), ("tariff_id", "shared-l")],
    )
    .await;
    let change = open_proposal_id(&chef, case2).await;
    assert_eq!(
        customer_post(&max, &format!("/menu/service/proposals/{change}/accept"), &[]).await.0,
        StatusCode::SEE_OTHER
    );
    let changes = app.store.tariff_changes(max_id).await.unwrap();
    assert_eq!((changes.len(), changes[0].to_tariff.as_str()), (1, "shared-l"));
    assert_eq!(changes[0].effective, after.prepaid_until.succ_opt().unwrap());
    app.smtp.wait_for("max@example.org", "Tarifwechsel zu SharedHosting L").await;
}

/// Ending a contract early cancels what was scheduled on it (a tariff change, a domain request); the
/// contract page shows its end instead of the earliest ordinary end; the customer saw the scheduled change in
/// the menu before (issue 16, item 2).
async fn early_end_cancels_scheduled(app: &TestApp) {
    let erika = customer(app, "K1000001", "demo-password-1").await;
    let erika_id = app.store.customer_by_number("K1000001".parse().unwrap()).await.unwrap().id;
    let contract = app.store.contracts(erika_id).await.unwrap().remove(0);
    // support schedules a tariff change within a verified call
    let support = staff(app, "support", "demo-support-1").await;
    let r = support
        .submit("/staff?number=K1000001", "/staff/customers/K1000001/verify", &[("password", DEMO_PHONE_PASSWORD)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = support
        .submit(
            "/staff/customers/K1000001",
            "/staff/customers/K1000001/tariff-change",
            &[("contract_id", &contract.id.to_string()), ("tariff", "shared-l")],
        )
        .await;
    assert_eq!(location(&r), "/staff/customers/K1000001?done=tariff_change_scheduled");
    // the customer sees it on the dashboard and the contract page, and requests a domain
    let (_, dash) = erika.get_text("/menu").await;
    let shown = texts(&dash, ".scheduled-change");
    assert!(shown.len() == 1 && shown[0].contains("SharedHosting L"), "{shown:?}");
    let (_, page) = erika.get_text(&format!("/menu/contracts/{}", contract.id)).await;
    assert!(texts(&page, "#scheduled-change")[0].contains("SharedHosting L"));
    assert_eq!(texts(&page, "#earliest-end").len(), 1);
    let r = erika
        .submit("/menu", "/menu/domains", &[("contract_id", &contract.id.to_string()), ("domain", "spaeter-einmal.de")])
        .await;
    assert_eq!(location(&r), "/menu?done=domain_requested");

    // management ends the contract early; the customer accepts
    let chef = staff(app, "chef", "demo-chef-1").await;
    let case = open_case(&erika, "management", "Kündigung", "Ich ziehe um.").await;
    let last_day = hostwerk_domain::calendar::berlin_date(chrono::Utc::now());
    let (status, page) = staff_post(
        &chef,
        &format!("/staff/cases/{case}/proposals"),
        &[("kind", "early_end"), ("contract_id", &contract.id.to_string()), ("last_day", &last_day.to_string())],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    let end = open_proposal_id(&chef, case).await;
    let (status, _) = customer_post(&erika, &format!("/menu/service/proposals/{end}/accept"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // nothing scheduled survives: not for the customer, not for support
    assert!(app.store.tariff_changes(erika_id).await.unwrap().is_empty());
    let orders = app.store.domain_orders(erika_id).await.unwrap();
    assert_eq!(orders[0].status, "cancelled");
    let (_, dash) = erika.get_text("/menu").await;
    assert!(texts(&dash, ".scheduled-change").is_empty(), "the kept dashboard was rendered anew");
    assert!(!dash.contains("spaeter-einmal.de"));
    let (_, page) = erika.get_text(&format!("/menu/contracts/{}", contract.id)).await;
    assert!(texts(&page, "#scheduled-change").is_empty());
    assert!(texts(&page, "#earliest-end").is_empty(), "no ordinary end for an ending contract");
    let end_date = hostwerk_domain::calendar::format_date(last_day, hostwerk_domain::Language::De);
    assert_eq!(texts(&page, "#contract-end"), vec![end_date]);
    assert!(texts(&page, "form.add-domain").is_empty(), "no domains for an ending contract");
    let (_, call) = support.get_text("/staff/customers/K1000001").await;
    assert!(texts(&call, "#tariff-changes li").is_empty(), "{:?}", texts(&call, "#tariff-changes li"));
    // and nothing new can be scheduled on it
    let r = support
        .submit(
            "/staff/customers/K1000001",
            "/staff/customers/K1000001/tariff-change",
            &[("contract_id", &contract.id.to_string()), ("tariff", "shared-l")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("Dieser Vertrag endet"));
    let r = erika
        .submit("/menu", "/menu/domains", &[("contract_id", &contract.id.to_string()), ("domain", "noch-eine.de")])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn an_early_end_cancels_what_was_scheduled_on_sqlite() {
    early_end_cancels_scheduled(&TestApp::spawn().await).await;
}

#[tokio::test]
async fn an_early_end_cancels_what_was_scheduled_on_postgres() {
    let Some(app) = TestApp::spawn_postgres().await else {
        eprintln!("skipped: HOSTWERK_TEST_POSTGRES_URL is not set");
        return;
    };
    early_end_cancels_scheduled(&app).await;
}
