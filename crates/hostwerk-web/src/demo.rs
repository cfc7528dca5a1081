//! The demo data of `hostwerk serve --demo`, seeded idempotently: two customers, three staff accounts.

use chrono::NaiveDate;
use hostwerk_domain::AuditAction;
use hostwerk_domain::{
    BillingPeriod, CustomerName, CustomerNumber, DomainName, EmailAddress, Language, NodeAddress, NodeName, NodeRole,
    PostalAddress, StaffLogin, StaffRole, TariffId,
};
use hostwerk_store::{NewContract, NewCustomer, Store, StoreError};

use crate::passwords::hash_password;

/// A login printed at start-up.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub who: &'static str,
    pub login: &'static str,
    pub password: &'static str,
    pub path: &'static str,
    /// The account's second factor: a TOTP key (base32) published with the demo, for an authenticator app.
    pub totp_secret: Option<&'static str>,
}

/// The demo logins, as printed by `serve --demo`.
/// Management and admin need a second factor, so their demo accounts come with one whose key is published
/// here and printed at start (like their passwords: a demo secret, disabled with the account outside the demo).
pub const LOGINS: [DemoLogin; 5] = [
    DemoLogin {
        who: "customer (SharedHosting)",
        login: "K1000001",
        password: "demo-password-1",
        path: "/login",
        totp_secret: None,
    },
    DemoLogin {
        who: "customer (ManagedServer)",
        login: "K1000002",
        password: "demo-password-2",
        path: "/login",
        totp_secret: None,
    },
    DemoLogin {
        who: "staff: support",
        login: "support",
        password: "demo-support-1",
        path: "/staff/login",
        totp_secret: None,
    },
    DemoLogin {
        who: "staff: management",
        login: "chef",
        password: "demo-chef-1",
        path: "/staff/login",
        totp_secret: Some(DEMO_CHEF_TOTP),
    },
    DemoLogin {
        who: "staff: admin",
        login: "admin",
        password: "demo-admin-1",
        path: "/staff/login",
        totp_secret: Some(DEMO_ADMIN_TOTP),
    },
];

/// The TOTP key (base32, 160 bits) of the demo account `chef`.
pub const DEMO_CHEF_TOTP: &str = "HWDEMOCHEFSECRETHWDEMOCHEFSECRET";
/// The TOTP key of the demo account `admin`.
pub const DEMO_ADMIN_TOTP: &str = "HWDEMOADMINSECRETHWDEMOADMINSECR";

/// The demo customer's telephone password.
pub const DEMO_PHONE_PASSWORD: &str = "2Dampfnudeln+Vanillesoss";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("demo data: {0}")]
    Data(String),
}

fn data<E: std::fmt::Display>(e: E) -> DemoError {
    DemoError::Data(e.to_string())
}

/// Creates whatever of the demo data is missing. Running it twice changes nothing.
pub async fn seed(store: &Store, webspace_root: &str) -> Result<(), DemoError> {
    let nodes = store.nodes().await?;
    for (name, role, address) in [
        ("web001", NodeRole::Webserver, "127.0.0.1"),
        ("web002", NodeRole::Webserver, "127.0.0.1"),
        ("backup01", NodeRole::BackupServer, "127.0.0.1"),
    ] {
        if !nodes.iter().any(|n| n.name.as_str() == name) {
            store
                .create_node(&NodeName::parse(name).map_err(data)?, role, &NodeAddress::parse(address).map_err(data)?)
                .await?;
        }
    }
    for (login, name, role, password) in [
        ("support", "Sam Support", StaffRole::Support, "demo-support-1"),
        ("chef", "Anna Chefin", StaffRole::Management, "demo-chef-1"),
        ("admin", "Alex Admin", StaffRole::Admin, "demo-admin-1"),
    ] {
        let parsed = StaffLogin::parse(login).map_err(data)?;
        let user = match store.staff_by_login(&parsed).await {
            Ok(user) => user,
            Err(StoreError::NotFound) => {
                let hash = hash_password(password).await.map_err(data)?;
                store.create_staff(&parsed, name, role, &hash).await?
            }
            Err(e) => return Err(e.into()),
        };
        let secret = LOGINS.iter().find(|l| l.login == login).and_then(|l| l.totp_secret);
        let subject = hostwerk_store::Subject::Staff(user.id);
        if let Some(secret) = secret {
            if store.second_factor(subject).await?.is_none() {
                // Enrolled with the published key and no recovery codes (none could be shown to anyone).
                store.start_second_factor(subject, secret).await?;
                store.enrol_second_factor(subject, secret, 0, &[]).await?;
            }
        }
    }
    seed_customer(
        store,
        webspace_root,
        "K1000001",
        "Erika Mustermann",
        "erika@example.com",
        "demo-password-1",
        "shared-m",
        &["mustermann-shop.de", "erika-mustermann.de"],
        &["info@mustermann-shop.de", "erika@erika-mustermann.de", "shop@mustermann-shop.de"],
    )
    .await?;
    seed_customer(
        store,
        webspace_root,
        "K1000002",
        "Max Beispiel GmbH",
        "max@example.org",
        "demo-password-2",
        "managed-server",
        &["beispiel-gmbh.de"],
        &[],
    )
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn seed_customer(
    store: &Store,
    webspace_root: &str,
    number: &str,
    name: &str,
    email: &str,
    password: &str,
    tariff: &str,
    domains: &[&str],
    mailboxes: &[&str],
) -> Result<(), DemoError> {
    let number = CustomerNumber::parse(number).map_err(data)?;
    if store.customer_by_number(number).await.is_ok() {
        return Ok(());
    }
    let tariff = store.tariff(&TariffId::parse(tariff).map_err(data)?).await?;
    let new = NewCustomer {
        name: CustomerName::parse(name).map_err(data)?,
        email: EmailAddress::parse(email).map_err(data)?,
        address: PostalAddress::parse("Musterstraße 1", "10115", "Berlin", "DE").map_err(data)?,
        language: Language::De,
        password_hash: hash_password(password).await.map_err(data)?,
        phone_password_hash: hash_password(DEMO_PHONE_PASSWORD).await.map_err(data)?,
    };
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).ok_or_else(|| data("date"))?;
    let contract =
        NewContract { tariff, period: BillingPeriod::Yearly, start, webspace_root: webspace_root.to_owned() };
    let customer = store.create_customer(&new, &contract).await?;
    if customer.number != number {
        return Err(DemoError::Data(format!(
            "the database already has other customers; the demo customer became {} instead of {number}",
            customer.number
        )));
    }
    let contract_id = store.contracts(customer.id).await?.first().map(|c| c.id).ok_or_else(|| data("no contract"))?;
    for (i, d) in domains.iter().enumerate() {
        let domain = store
            .add_domain(
                customer.id,
                contract_id,
                &DomainName::parse(d).map_err(data)?,
                &format!("DEMO-AUTH-{number}-{i}"),
            )
            .await?;
        for m in mailboxes.iter().filter(|m| m.ends_with(&format!("@{d}"))) {
            let local = hostwerk_domain::MailboxName::parse(m.split('@').next().unwrap_or("")).map_err(data)?;
            store.add_mailbox(customer.id, domain.id, &local).await?;
        }
    }
    Ok(())
}

/// Gives the demo webservers their backup server and fills the demo contracts' webspaces and mail folders
/// with a small website and a welcome mail, where they do not exist yet (so the first nightly backup has
/// something to keep and the "Backups" page something to browse).
pub async fn seed_backups(store: &Store, mail_root: &str) -> Result<(), DemoError> {
    let nodes = store.nodes().await?;
    let backup = nodes.iter().find(|n| n.name.as_str() == "backup01").map(|n| n.id);
    for n in nodes.iter().filter(|n| n.role == NodeRole::Webserver) {
        if store.backup_server_of(n.id).await?.is_none() {
            store.set_backup_server(n.id, backup).await?;
        }
    }
    for number in ["K1000001", "K1000002"] {
        let number = CustomerNumber::parse(number).map_err(data)?;
        let Ok(customer) = store.customer_by_number(number).await else { continue };
        for contract in store.contracts(customer.id).await? {
            let root = std::path::PathBuf::from(&contract.webspace_path);
            if !root.exists() {
                let files: [(&str, String); 4] = [
                    (
                        "htdocs/index.html",
                        format!("<!doctype html>\n<title>{}</title>\n<h1>Willkommen</h1>\n", customer.name),
                    ),
                    (
                        "htdocs/kontakt.html",
                        "<!doctype html>\n<title>Kontakt</title>\n<p>Schreiben Sie uns.</p>\n".into(),
                    ),
                    (
                        "htdocs/img/logo.svg",
                        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>\n".into(),
                    ),
                    (
                        "logs/access.log",
                        "127.0.0.1 - - [01/Jan/2026:00:00:00 +0100] \"GET / HTTP/1.1\" 200 42\n".into(),
                    ),
                ];
                for (path, content) in files {
                    let p = root.join(path);
                    if let Some(dir) = p.parent() {
                        std::fs::create_dir_all(dir).map_err(data)?;
                    }
                    std::fs::write(&p, content).map_err(data)?;
                }
            }
        }
        for mailbox in store.mailboxes(customer.id).await? {
            let Some((local, domain)) = mailbox.address.as_str().rsplit_once('@') else { continue };
            let dir = std::path::Path::new(mail_root).join(domain).join(local);
            if dir.exists() {
                continue;
            }
            for sub in ["cur", "new", "tmp"] {
                std::fs::create_dir_all(dir.join(sub)).map_err(data)?;
            }
            let mail = format!(
                "From: kundenservice@hostwerk.invalid\r\nTo: {}\r\nSubject: Willkommen\r\n\r\nIhr Postfach ist eingerichtet.\r\n",
                mailbox.address
            );
            std::fs::write(dir.join("cur/1767225600.M1P1.demo:2,S"), mail).map_err(data)?;
        }
    }
    Ok(())
}

/// A start without `--demo` on a database that `--demo` seeded: every demo login that still has its published
/// password is disabled (issue 17). Staff accounts are deactivated; customers get an unusable password
/// (the password reminder sets a new one) and, where it is the published one, an unusable telephone
/// password; all their sessions and API tokens end. Returns the logins it disabled, for the start message.
pub async fn disable_published_logins(store: &Store) -> Result<Vec<&'static str>, DemoError> {
    use crate::passwords::verify_password;
    use hostwerk_store::Subject;
    let mut disabled = Vec::new();
    for l in LOGINS {
        let unusable = || async { hash_password(&hostwerk_store::token::new_token().raw).await.map_err(data) };
        let subject = if CustomerNumber::parse(l.login).is_ok() {
            let Ok(c) = store.customer_credentials(l.login).await else { continue };
            if !verify_password(l.password, Some(c.password_hash)).await {
                continue;
            }
            store.set_customer_password_hash(c.id, &unusable().await?).await?;
            let phone = store.customer_phone_password_hash(c.id).await?;
            if verify_password(DEMO_PHONE_PASSWORD, Some(phone)).await {
                store.set_customer_phone_password_hash(c.id, &unusable().await?).await?;
            }
            Subject::Customer(c.id)
        } else {
            let Ok(login) = StaffLogin::parse(l.login) else { continue };
            let Ok(c) = store.staff_credentials(&login).await else { continue };
            if !c.active || !verify_password(l.password, Some(c.password_hash)).await {
                continue;
            }
            store.set_staff_active(c.id, false).await?;
            Subject::Staff(c.id)
        };
        store.end_all_sessions(subject).await?;
        store
            .audit(&hostwerk_store::Actor::system("serve without --demo"), AuditAction::DemoLoginDisabled, l.login, "")
            .await?;
        disabled.push(l.login);
    }
    Ok(disabled)
}
